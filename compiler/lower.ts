// The checker and lowering in one walk (elaboration): evaluates hyper-parameters, instantiates
// layers (inlining user layers, expanding `repeat`), checks names, types and shapes, and emits
// the IR graph. Every problem becomes a located diagnostic; nothing here throws at the user.
import type { Definition, Span } from "../grammar/ast.js";
import { type Diagnostic, DiagnosticBag } from "../grammar/diagnostics.js";
import { Elaborator, Stop } from "./elaborate/context.js";
import { forwardOf, runForward } from "./elaborate/forward.js";
import { instantiate } from "./elaborate/instantiate.js";
import { checkDeclarations, warnUnused } from "./elaborate/lints.js";
import { parseOverrides } from "./elaborate/overrides.js";
import { COMMAND_LINE } from "./elaborate/report.js";
import { declaredType } from "./elaborate/shapes.js";
import { suggest } from "./elaborate/suggest.js";
import type { Graph } from "./ir/graph.js";
import type { Dim } from "./ir/types.js";
import type { LoadedProgram } from "./sources.js";
import type { Value } from "./values.js";

export { LIMITS } from "./elaborate/context.js";
export { parseLiteral } from "./elaborate/overrides.js";
export { suggest } from "./elaborate/suggest.js";

export interface LowerOptions {
  /** Which model to build; defaults to the last `model` of the entry file. */
  readonly model?: string;
  /** Hyper-parameter overrides of the model, as written on the command line (`name=value`). */
  readonly overrides?: readonly string[];
  /**
   * Lower for generation: attention keeps a KV cache of `context` positions (a state per layer)
   * and reads an extra input `positions: i32[T]`, the absolute position of each new token; one
   * plan then serves the prompt (positions 0..T-1) and every decoding step (T = 1).
   */
  readonly decode?: { readonly context: number };
}

export interface LowerResult {
  readonly graph?: Graph;
  readonly model?: string;
  /** The model's hyper-parameters after defaults and overrides. */
  readonly hyperParams: ReadonlyMap<string, number | boolean | string>;
  readonly diagnostics: readonly Diagnostic[];
}

export function lowerProgram(program: LoadedProgram, options: LowerOptions = {}): LowerResult {
  const bag = new DedupBag();
  bag.items.push(...program.diagnostics);
  const hyperParams = new Map<string, number | boolean | string>();
  if (bag.hasErrors) return { hyperParams, diagnostics: bag.items };

  const entryScope = program.scopes.get(program.entry.path)!;
  const models = program.entry.definitions.filter((d) => d.role === "model");
  let chosen: Definition | undefined;
  if (options.model !== undefined) {
    chosen = entryScope.get(options.model);
    if (!chosen) {
      const known = [...entryScope.keys()];
      const hint = suggest(options.model, known);
      const close = hint ? entryScope.get(/'(.*)'/.exec(hint)![1]!) : undefined;
      const own = program.entry.definitions;
      bag.error(
        COMMAND_LINE,
        `no model or layer named '${options.model}' in ${program.entry.path}${hint}`,
        close
          ? [{ message: `'${close.name.name}' is defined here`, span: close.name.span }]
          : own.length > 0
            ? [
                {
                  message: `this file defines ${own.map((d) => d.name.name).join(", ")}`,
                  span: own[0]!.name.span,
                },
              ]
            : undefined,
      );
    }
  } else {
    chosen = models[models.length - 1];
  }
  checkDeclarations(program, bag);
  warnUnused(program, bag);
  // A library of layers has nothing to build until a model or --model picks one.
  if (!chosen) return { hyperParams, diagnostics: bag.items };

  const el = new Elaborator(program, bag, options.decode);
  try {
    const graph = lowerModel(el, chosen, options.overrides ?? [], hyperParams);
    return {
      graph: bag.hasErrors ? undefined : graph,
      model: chosen.name.name,
      hyperParams,
      diagnostics: bag.items,
    };
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    return { hyperParams, model: chosen.name.name, diagnostics: bag.items };
  }
}

/** Repeated instances report the same problem once. */
class DedupBag extends DiagnosticBag {
  readonly #seen = new Set<string>();
  override error(span: Span, message: string, notes?: Diagnostic["notes"]): void {
    const key = `${span.file}:${span.startOffset}:${message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    super.error(span, message, notes);
  }
}

function lowerModel(
  el: Elaborator,
  def: Definition,
  overrides: readonly string[],
  resolved: Map<string, number | boolean | string>,
): Graph {
  (el.builder as { name: string }).name = def.name.name;
  const explicit = parseOverrides(el, def, overrides);
  const file = def.name.span.file;
  const instance = instantiate(
    el,
    { kind: "definition", definition: def, file },
    explicit,
    "",
    def.name.span,
  );
  if (!instance?.env) return el.builder.build();
  for (const p of def.params) {
    const v = instance.env.lookup(p.name.name);
    if (
      v &&
      (v.kind === "int" ||
        v.kind === "float" ||
        v.kind === "bool" ||
        v.kind === "string" ||
        v.kind === "act")
    )
      resolved.set(p.name.name, v.value);
  }
  const forward = forwardOf(el, def, def.name.span);
  if (!forward) return el.builder.build();

  // Model inputs: symbolic dims become graph symbols of the same name.
  const symbols = new Map<string, Dim>();
  const args: Value[] = [];
  for (const decl of forward.inputs) {
    const type = declaredType(el, decl, instance.env, symbols, true);
    if (!type) {
      args.push({ kind: "error" });
      continue;
    }
    const [value] = el.builder.add("input", [], { name: decl.name.name }, "", decl.span, [type]);
    el.builder.inputs.push({ name: decl.name.name, value: value! });
    args.push({ kind: "tensor", value: value! });
  }
  const results = runForward(el, def, forward, instance.env, args, symbols, def.name.span);
  results?.forEach((v, i) => {
    const decl = forward.outputs[i]!;
    if (v.kind === "tensor") el.builder.outputs.push({ name: decl.name.name, value: v.value });
  });
  return el.builder.build();
}
