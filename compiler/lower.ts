// The checker and lowering in one walk (elaboration): evaluates hyper-parameters, instantiates
// layers (inlining user layers, expanding `repeat`), checks names, types and shapes, and emits
// the IR graph. Every problem becomes a located diagnostic; nothing here throws at the user.
import type {
  Argument,
  Binding,
  Definition,
  Expr,
  Forward,
  HyperParam,
  Identifier,
  Span,
  TensorDecl,
} from "../grammar/ast.js";
import { type Diagnostic, DiagnosticBag } from "../grammar/diagnostics.js";
import {
  type Args,
  BUILTIN_LAYERS,
  type BuiltinLayer,
  checkRoutingMatchesBank,
} from "./builtins.js";
import { type Graph, GraphBuilder } from "./ir/graph.js";
import { ACTIVATIONS, type Activation, type OpAttrs, type OpName, ShapeError } from "./ir/ops.js";
import { type Dim, type TensorType, dimEquals, formatDim, formatType } from "./ir/types.js";
import type { LoadedProgram } from "./sources.js";
import {
  type Callable,
  Env,
  type Instance,
  type Routing,
  type Value,
  coerce,
  describe,
} from "./values.js";

/** Guard rails: absurd specs are rejected before any memory is spent on them. */
export const LIMITS = {
  maxDim: 1 << 24,
  maxTensorElements: 2 ** 32,
  maxRepeat: 4096,
  maxNodes: 200_000,
  /** Layers without weights (Identity, empty user layers) add no nodes, so count them too. */
  maxInstances: 200_000,
  maxInstanceDepth: 64,
  maxInt: Number.MAX_SAFE_INTEGER,
};

export interface LowerOptions {
  /** Which model to build; defaults to the last `model` of the entry file. */
  readonly model?: string;
  /** Hyper-parameter overrides of the model, as written on the command line (`name=value`). */
  readonly overrides?: readonly string[];
}

export interface LowerResult {
  readonly graph?: Graph;
  readonly model?: string;
  /** The model's hyper-parameters after defaults and overrides. */
  readonly hyperParams: ReadonlyMap<string, number | boolean | string>;
  readonly diagnostics: readonly Diagnostic[];
}

const COMMAND_LINE: Span = {
  file: "<command line>",
  startOffset: 0,
  endOffset: 0,
  line: 1,
  column: 1,
  endLine: 1,
  endColumn: 1,
};

/** Unwinds the elaboration after an error that makes going on pointless (size limits). */
class Stop extends Error {}

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

  const elaborator = new Elaborator(program, bag);
  try {
    const graph = elaborator.lowerModel(chosen, options.overrides ?? [], hyperParams);
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

class Elaborator {
  readonly builder: GraphBuilder = new GraphBuilder("model");
  readonly #stack: Definition[] = [];
  #instances = 0;
  /**
   * The calls being elaborated, outermost first: each user-definition instantiation and each
   * forward call of a user layer. Errors found inside library code are reported at the user's
   * call that led there (see `report`).
   */
  readonly #sites: Site[] = [];

  constructor(
    readonly program: LoadedProgram,
    readonly bag: DiagnosticBag,
  ) {}

  /**
   * Reports an error whose cause may lie in the arguments of a call: range checks of built-ins,
   * `repeat` counts, arithmetic, shapes, requirements. Found inside a file other than the entry
   * file (the library), it is reported at the entry-file call that led there, with a note at the
   * library line; a library argument that merely passes on a hyper-parameter is followed back to
   * the argument the user wrote.
   */
  report(span: Span, message: string, notes: Diagnostic["notes"] = []): void {
    const moved = this.relocate(span);
    if (!moved) {
      this.bag.error(span, message, notes.length > 0 ? notes : undefined);
      return;
    }
    this.bag.error(moved.span, message, [{ message: moved.note, span }, ...notes]);
  }

  relocate(span: Span): { span: Span; note: string } | undefined {
    const entry = this.program.entry.path;
    const sites = this.#sites;
    if (span.file === entry || span.file === COMMAND_LINE.file) return undefined;
    if (!sites.some((s) => s.span.file === entry)) return undefined;
    // The innermost call whose definition's code holds the span.
    let level = sites.length - 1;
    while (level > 0 && !contains(sites[level]!.def.span, span)) level--;
    const where = sites[level]!;
    let at = span;
    for (let i = level; i >= 0 && at.file !== entry; i--) {
      at = this.passedArgument(at, sites[i]!) ?? sites[i]!.span;
    }
    if (at.file !== entry) return undefined;
    return {
      span: at,
      note: `found inside '${where.def.name.name}'${where.path ? ` at '${where.path}'` : ""}`,
    };
  }

  /** When `span` is a bare use of a hyper-parameter of `site`'s definition: the argument for it. */
  passedArgument(span: Span, site: Site): Span | undefined {
    if (!site.args) return undefined;
    const text = this.program.texts.get(span.file)?.slice(span.startOffset, span.endOffset);
    if (!text || !site.def.params.some((p) => p.name.name === text)) return undefined;
    return argSpanOf(site.args, site.def.params, text);
  }

  lowerModel(
    def: Definition,
    overrides: readonly string[],
    resolved: Map<string, number | boolean | string>,
  ): Graph {
    (this.builder as { name: string }).name = def.name.name;
    const explicit = this.parseOverrides(def, overrides);
    const file = def.name.span.file;
    const instance = this.instantiate(
      { kind: "definition", definition: def, file },
      explicit,
      "",
      def.name.span,
    );
    if (!instance?.env) return this.builder.build();
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
    const forward = this.forwardOf(def, def.name.span);
    if (!forward) return this.builder.build();

    // Model inputs: symbolic dims become graph symbols of the same name.
    const symbols = new Map<string, Dim>();
    const args: Value[] = [];
    for (const decl of forward.inputs) {
      const type = this.declaredType(decl, instance.env, symbols, true);
      if (!type) {
        args.push({ kind: "error" });
        continue;
      }
      const [value] = this.builder.add("input", [], { name: decl.name.name }, "", decl.span, [
        type,
      ]);
      this.builder.inputs.push({ name: decl.name.name, value: value! });
      args.push({ kind: "tensor", value: value! });
    }
    const results = this.runForward(def, forward, instance.env, args, symbols, def.name.span);
    results?.forEach((v, i) => {
      const decl = forward.outputs[i]!;
      if (v.kind === "tensor") this.builder.outputs.push({ name: decl.name.name, value: v.value });
    });
    return this.builder.build();
  }

  // -------------------------------------------------------------------------------------------
  // Instantiation

  parseOverrides(def: Definition, overrides: readonly string[]): Map<string, Value> {
    const out = new Map<string, Value>();
    const names = def.params.map((p) => p.name.name);
    // Command-line problems have no source line; a note shows the declaration they are about.
    const declaredHere = {
      message:
        names.length > 0
          ? `'${def.name.name}' is declared here; its hyper-parameters are ${names.join(", ")}`
          : `'${def.name.name}' is declared here, without hyper-parameters`,
      span: def.name.span,
    };
    for (const text of overrides) {
      const eq = text.indexOf("=");
      if (eq < 0) {
        const param = def.params.find((p) => p.name.name === text.trim());
        this.bag.error(COMMAND_LINE, `--set expects name=value, got '${text}'`, [
          param
            ? { message: `'${param.name.name}' is declared ${param.type} here`, span: param.span }
            : declaredHere,
        ]);
        continue;
      }
      const name = text.slice(0, eq).trim();
      const raw = text.slice(eq + 1).trim();
      const param = def.params.find((p) => p.name.name === name);
      if (!param) {
        this.bag.error(
          COMMAND_LINE,
          `'${def.name.name}' has no hyper-parameter '${name}'${suggest(name, names)}`,
          [declaredHere],
        );
        continue;
      }
      const value = parseLiteral(raw, param.type);
      if (value === undefined)
        this.bag.error(COMMAND_LINE, `--set ${name}: '${raw}' is not a valid ${param.type}`, [
          { message: `'${name}' is declared ${param.type} here`, span: param.span },
        ]);
      else out.set(name, value);
    }
    return out;
  }

  /** Binds arguments to a definition's parameters and builds the instance. */
  instantiate(
    callable: Exclude<Callable, { kind: "function" }>,
    args: Map<string, Value> | readonly Argument[],
    path: string,
    span: Span,
    callerEnv?: Env,
  ): Instance | undefined {
    if (++this.#instances > LIMITS.maxInstances) {
      this.report(
        span,
        `the model has more than ${LIMITS.maxInstances} layer instances; it is too large to compile`,
      );
      throw new Stop();
    }
    if (callable.kind === "builtin-layer") {
      const bound = this.bindBuiltinArgs(
        callable.layer,
        args as readonly Argument[],
        callerEnv!,
        span,
      );
      return (
        bound &&
        this.instantiateBuiltin(callable.layer, bound, path, span, args as readonly Argument[])
      );
    }
    const def = callable.definition;
    if (this.#stack.includes(def)) {
      this.bag.error(
        span,
        `'${def.name.name}' instantiates itself (${[...this.#stack, def].map((d) => d.name.name).join(" -> ")})`,
      );
      return undefined;
    }
    if (this.#stack.length >= LIMITS.maxInstanceDepth) {
      this.bag.error(span, `layers nested more than ${LIMITS.maxInstanceDepth} deep`);
      throw new Stop();
    }
    const env = new Env(callable.file, undefined, path);
    const given =
      args instanceof Map ? args : this.evaluateArgs(args, callerEnv!, def.params, def.name.name);
    if (!given) return undefined;
    this.#sites.push({ def, span, path, args: args instanceof Map ? undefined : args });
    try {
      return this.instantiateDefinition(callable, def, given, args, env, path, span);
    } finally {
      this.#sites.pop();
    }
  }

  /** Binds a user definition's hyper-parameters and evaluates its body members. */
  instantiateDefinition(
    callable: Extract<Callable, { kind: "definition" }>,
    def: Definition,
    given: Map<string, Value>,
    args: Map<string, Value> | readonly Argument[],
    env: Env,
    path: string,
    span: Span,
  ): Instance | undefined {
    for (const p of def.params) {
      let value = given.get(p.name.name);
      const fromDefault = value === undefined && p.default !== undefined;
      if (value === undefined && p.default) value = this.evalParamDefault(p, env);
      if (value === undefined) {
        this.bag.error(span, `missing argument '${p.name.name}' of '${def.name.name}'`, [
          { message: `'${p.name.name}' is declared here`, span: p.span },
        ]);
        value = { kind: "error" };
      }
      const typed = coerce(value, p.type);
      if (!typed && fromDefault) {
        this.bag.error(
          p.default!.span,
          `the default of '${p.name.name}' must be ${p.type}, got ${describe(value)}`,
          [{ message: `'${p.name.name}' is declared ${p.type} here`, span: p.typeSpan }],
        );
      } else if (!typed) {
        this.bag.error(
          argSpanOf(args, def.params, p.name.name) ?? span,
          `argument '${p.name.name}' of '${def.name.name}' must be ${p.type}, got ${describe(value)}`,
          [{ message: `'${p.name.name}' is declared ${p.type} here`, span: p.typeSpan }],
        );
      }
      env.vars.set(p.name.name, typed ?? { kind: "error" });
    }
    for (const m of def.members) {
      if (m.kind === "Binding" && !env.vars.has(m.name.name) && !env.pending.has(m.name.name))
        env.pending.set(m.name.name, m.name);
    }
    this.#stack.push(def);
    try {
      for (const member of def.members) {
        if (member.kind === "Binding") {
          const name = member.name.name;
          if (env.vars.has(name)) {
            const param = def.params.find((p) => p.name.name === name);
            const first =
              param?.name ??
              def.members.find((m): m is Binding => m.kind === "Binding" && m.name.name === name)
                ?.name;
            this.bag.error(
              member.name.span,
              param
                ? `'${name}' is already a hyper-parameter of '${def.name.name}'`
                : `'${name}' is already defined in '${def.name.name}'`,
              first && first !== member.name
                ? [
                    {
                      message: param
                        ? `'${name}' is declared here`
                        : `'${name}' is first defined here`,
                      span: first.span,
                    },
                  ]
                : undefined,
            );
            // Uses of the name below mean one of two things; neither is worth reporting again.
            env.vars.set(name, { kind: "error" });
            continue;
          }
          const childPath = joinPath(path, name);
          env.defining = name;
          const value = this.evalExpr(member.value, env, "body", childPath);
          env.defining = undefined;
          env.pending.delete(name);
          env.vars.set(name, value);
        } else if (member.kind === "Requirement") {
          const cond = this.evalExpr(member.condition, env, "body");
          if (cond.kind === "bool" && !cond.value) {
            const what = member.message?.value ?? "requirement failed";
            this.report(span, `${what} (in '${def.name.name}'${path ? ` at '${path}'` : ""})`, [
              { message: "required here", span: member.condition.span },
            ]);
            return undefined; // later members would only repeat the problem
          } else if (cond.kind !== "bool" && cond.kind !== "error") {
            this.bag.error(
              member.condition.span,
              `a requirement must be a bool, got ${describe(cond)}`,
            );
          }
        }
      }
    } finally {
      this.#stack.pop();
    }
    return { path, callable, args: given, env, weights: new Map() };
  }

  evalParamDefault(p: HyperParam, env: Env): Value {
    return this.evalExpr(p.default!, env, "body");
  }

  evaluateArgs(
    args: readonly Argument[],
    env: Env,
    params: readonly { name: string }[] | readonly HyperParam[],
    owner: string,
  ): Map<string, Value> | undefined {
    const names = params.map((p) => (typeof p.name === "string" ? p.name : p.name.name));
    const out = new Map<string, Value>();
    let positional = 0;
    let ok = true;
    for (const arg of args) {
      let name: string | undefined;
      if (arg.name) {
        name = arg.name.name;
        if (!names.includes(name)) {
          this.bag.error(
            arg.name.span,
            `'${owner}' has no parameter '${name}'${suggest(name, names)}`,
          );
          ok = false;
          continue;
        }
      } else {
        name = names[positional++];
        if (name === undefined) {
          this.bag.error(arg.span, `too many arguments for '${owner}' (it takes ${names.length})`);
          ok = false;
          continue;
        }
      }
      if (out.has(name)) {
        this.bag.error(arg.span, `argument '${name}' given twice`);
        ok = false;
        continue;
      }
      out.set(name, this.evalExpr(arg.value, env, "body"));
    }
    return ok ? out : undefined;
  }

  bindBuiltinArgs(
    layer: BuiltinLayer,
    args: readonly Argument[],
    env: Env,
    span: Span,
  ): Map<string, Value> | undefined {
    const given = this.evaluateArgs(args, env, layer.params, layer.name);
    if (!given) return undefined;
    const bound = new Map<string, Value>();
    let ok = true;
    for (const p of layer.params) {
      let value = given.get(p.name);
      if (value === undefined && p.default) value = p.default(argsView(bound));
      if (value === undefined) {
        this.bag.error(
          span,
          `missing argument '${p.name}' of ${layer.name}(${layer.params.map((q) => q.name).join(", ")})`,
        );
        ok = false;
        continue;
      }
      const typed = coerce(value, p.type);
      if (!typed || typed.kind === "error") {
        if (typed?.kind !== "error") {
          const at = argSpan(args, layer.params, p.name) ?? span;
          this.bag.error(
            at,
            `argument '${p.name}' of ${layer.name} must be ${p.type}, got ${describe(value)}`,
          );
        }
        ok = false;
        continue;
      }
      bound.set(p.name, typed);
    }
    return ok ? bound : undefined;
  }

  instantiateBuiltin(
    layer: BuiltinLayer,
    bound: Map<string, Value>,
    path: string,
    span: Span,
    args: readonly Argument[],
  ): Instance | undefined {
    const view = argsView(bound);
    for (const [name, message] of layer.validate(view)) {
      this.report(argSpan(args, layer.params, name) ?? span, message);
    }
    for (const p of layer.params) {
      const v = bound.get(p.name);
      if (v?.kind === "int" && v.value > LIMITS.maxDim) {
        this.report(
          argSpan(args, layer.params, p.name) ?? span,
          `${p.name} = ${v.value} exceeds the limit of ${LIMITS.maxDim} per dimension`,
        );
      }
    }
    if (this.bag.hasErrors) return undefined;
    const weights = new Map<string, number>();
    for (const w of layer.weights(view)) {
      const elements = w.shape.reduce((a, b) => a * b, 1);
      if (elements > LIMITS.maxTensorElements) {
        // `{e}.` marks a stack of per-expert tensors, stored (and limited) as one tensor.
        const what = w.suffix.startsWith("{e}.")
          ? `the ${w.shape[0]} expert weights '${joinPath(path, w.suffix.replace("{e}", "*"))}' would have ${elements} elements together`
          : `weight '${joinPath(path, w.suffix)}' would have ${elements} elements`;
        this.report(span, `${what} (limit ${LIMITS.maxTensorElements})`);
        return undefined;
      }
      const name = joinPath(path, w.suffix);
      const [value] = this.addNode(
        "weight",
        [],
        { name, init: w.init, fanIn: w.fanIn },
        path,
        span,
        [{ dtype: w.dtype ?? "f32", shape: w.shape }],
      );
      weights.set(w.suffix, value!);
    }
    return { path, callable: { kind: "builtin-layer", layer }, args: bound, weights };
  }

  addNode<K extends OpName>(
    op: K,
    inputs: readonly number[],
    attrs: OpAttrs[K],
    scope: string,
    span: Span,
    types?: readonly TensorType[],
  ): number[] {
    if (this.builder.nodes.length >= LIMITS.maxNodes) {
      this.report(
        span,
        `the model lowers to more than ${LIMITS.maxNodes} IR nodes; it is too large to compile`,
      );
      throw new Stop();
    }
    return this.builder.add(op, inputs, attrs, scope, span, types);
  }

  forwardOf(def: Definition, span: Span): Forward | undefined {
    const forwards = def.members.filter((m): m is Forward => m.kind === "Forward");
    if (forwards.length === 0) {
      this.bag.error(span, `'${def.name.name}' has no forward and cannot be called`);
      return undefined;
    }
    if (forwards.length > 1) {
      this.bag.error(forwards[1]!.span, `'${def.name.name}' has more than one forward`);
    }
    return forwards[0];
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  evalExpr(expr: Expr, env: Env, context: "body" | "forward", instancePath?: string): Value {
    switch (expr.kind) {
      case "Int":
        if (!Number.isSafeInteger(expr.value)) {
          this.bag.error(expr.span, `integer ${expr.text} is too large`);
          return { kind: "error" };
        }
        return { kind: "int", value: expr.value };
      case "Float":
        if (!Number.isFinite(expr.value)) {
          this.bag.error(expr.span, `float ${expr.text} is too large`);
          return { kind: "error" };
        }
        return { kind: "float", value: expr.value };
      case "Bool":
        return { kind: "bool", value: expr.value };
      case "String":
        return { kind: "string", value: expr.value };
      case "Identifier":
        return this.lookup(expr, env);
      case "Unary": {
        const v = this.evalExpr(expr.operand, env, context);
        if (v.kind === "error") return v;
        if (expr.op === "-" && (v.kind === "int" || v.kind === "float"))
          return { kind: v.kind, value: -v.value };
        if (expr.op === "!" && v.kind === "bool") return { kind: "bool", value: !v.value };
        this.bag.error(expr.span, `cannot apply '${expr.op}' to ${describe(v)}`);
        return { kind: "error" };
      }
      case "Binary":
        return this.evalBinary(expr, env, context);
      case "Conditional": {
        const c = this.evalExpr(expr.condition, env, context);
        if (c.kind === "error") return c;
        if (c.kind !== "bool") {
          this.bag.error(
            expr.condition.span,
            `a condition must be a bool known at compile time, got ${describe(c)}`,
          );
          return { kind: "error" };
        }
        // Only the chosen branch is evaluated, so a switched-off layer declares no weights.
        return this.evalExpr(c.value ? expr.then : expr.otherwise, env, context, instancePath);
      }
      case "Repeat":
        return this.evalRepeat(expr, env, context, instancePath);
      case "FieldAccess":
        return this.evalField(expr.object, expr.property, env, context);
      case "Call":
        return this.evalCall(expr, env, context, instancePath);
    }
  }

  lookup(id: Identifier, env: Env): Value {
    const local = env.lookup(id.name);
    if (local) return local;
    for (let e: Env | undefined = env; e; e = e.parent) {
      if (e.defining === id.name) {
        this.bag.error(id.span, `'${id.name}' is defined in terms of itself`);
        return { kind: "error" };
      }
      const later = e.pending.get(id.name);
      if (later) {
        this.bag.error(id.span, `'${id.name}' is used before it is defined`, [
          { message: `'${id.name}' is defined here`, span: later.span },
        ]);
        return { kind: "error" };
      }
    }
    const def = this.program.scopes.get(env.file)?.get(id.name);
    if (def)
      return {
        kind: "callable",
        target: { kind: "definition", definition: def, file: def.name.span.file },
      };
    const layer = BUILTIN_LAYERS.get(id.name);
    if (layer) return { kind: "callable", target: { kind: "builtin-layer", layer } };
    if ((ACTIVATIONS as readonly string[]).includes(id.name))
      return { kind: "act", value: id.name as Activation };
    if (id.name === "split" || id.name === "join")
      return { kind: "callable", target: { kind: "function", name: id.name } };
    const known = [
      ...namesIn(env),
      ...(this.program.scopes.get(env.file)?.keys() ?? []),
      ...BUILTIN_LAYERS.keys(),
      ...ACTIVATIONS,
      "split",
      "join",
    ];
    const spec = this.program.stdImportFor?.(id.name);
    this.bag.error(
      id.span,
      spec
        ? `unknown name '${id.name}': it is defined in the standard library; add \`import "${spec}"\` at the top of this file`
        : `unknown name '${id.name}'${suggest(id.name, known)}`,
    );
    return { kind: "error" };
  }

  evalBinary(expr: Expr & { kind: "Binary" }, env: Env, context: "body" | "forward"): Value {
    const l = this.evalExpr(expr.left, env, context);
    // && and || short-circuit so `heads > 0 && dim % heads == 0` never divides by zero.
    if (
      (expr.op === "&&" || expr.op === "||") &&
      l.kind === "bool" &&
      l.value === (expr.op === "||")
    )
      return l;
    const r = this.evalExpr(expr.right, env, context);
    if (l.kind === "error" || r.kind === "error") return { kind: "error" };
    const fail = (why?: string): Value => {
      // A value problem (division, overflow) depends on the arguments; a type problem does not.
      if (why) this.report(expr.span, why);
      else
        this.bag.error(expr.span, `cannot apply '${expr.op}' to ${describe(l)} and ${describe(r)}`);
      return { kind: "error" };
    };
    if (l.kind === "tensor" && r.kind === "tensor" && (expr.op === "+" || expr.op === "*")) {
      return this.tensorOp(expr.op === "+" ? "add" : "mul", [l.value, r.value], {}, env, expr.span);
    }
    const numeric = (v: Value) => v.kind === "int" || v.kind === "float";
    if (numeric(l) && numeric(r)) {
      const a = (l as { value: number }).value;
      const b = (r as { value: number }).value;
      const bothInt = l.kind === "int" && r.kind === "int";
      const num = (x: number): Value => {
        if (bothInt && !Number.isSafeInteger(x)) return fail(`integer overflow in '${expr.op}'`);
        if (!Number.isFinite(x))
          return fail(
            `float overflow in '${expr.op}': ${a} ${expr.op} ${b} is not a finite number`,
          );
        return { kind: bothInt ? "int" : "float", value: x };
      };
      switch (expr.op) {
        case "+":
          return num(a + b);
        case "-":
          return num(a - b);
        case "*":
          return num(a * b);
        case "/":
          if (b === 0) return fail("division by zero");
          if (bothInt && a % b !== 0) return fail(`${a} is not divisible by ${b}`);
          return num(a / b);
        case "%":
          if (!bothInt) return fail("'%' needs integers");
          if (b === 0) return fail("division by zero");
          return num(a % b);
        case "==":
          return { kind: "bool", value: a === b };
        case "!=":
          return { kind: "bool", value: a !== b };
        case "<":
          return { kind: "bool", value: a < b };
        case "<=":
          return { kind: "bool", value: a <= b };
        case ">":
          return { kind: "bool", value: a > b };
        case ">=":
          return { kind: "bool", value: a >= b };
        default:
          return fail();
      }
    }
    if (l.kind === "bool" && r.kind === "bool") {
      if (expr.op === "&&") return { kind: "bool", value: l.value && r.value };
      if (expr.op === "||") return { kind: "bool", value: l.value || r.value };
      if (expr.op === "==") return { kind: "bool", value: l.value === r.value };
      if (expr.op === "!=") return { kind: "bool", value: l.value !== r.value };
    }
    if ((l.kind === "string" && r.kind === "string") || (l.kind === "act" && r.kind === "act")) {
      if (expr.op === "==") return { kind: "bool", value: l.value === r.value };
      if (expr.op === "!=") return { kind: "bool", value: l.value !== r.value };
    }
    return fail();
  }

  evalRepeat(
    expr: Expr & { kind: "Repeat" },
    env: Env,
    context: "body" | "forward",
    path?: string,
  ): Value {
    if (context !== "body" || path === undefined) {
      this.bag.error(
        expr.span,
        "`repeat` must be bound to a name in a layer body, e.g. `blocks = repeat 4 { Block() }`",
      );
      return { kind: "error" };
    }
    const count = this.evalExpr(expr.count, env, context);
    if (count.kind === "error") return count;
    if (count.kind !== "int" || count.value < 1 || count.value > LIMITS.maxRepeat) {
      this.report(
        expr.count.span,
        count.kind === "int"
          ? `repeat count must be between 1 and ${LIMITS.maxRepeat}, got ${count.value}`
          : `repeat count must be an int, got ${describe(count)}`,
      );
      return { kind: "error" };
    }
    const items: Instance[] = [];
    for (let i = 0; i < count.value; i++) {
      const inner = env.child();
      if (expr.index) inner.vars.set(expr.index.name, { kind: "int", value: i });
      const v = this.evalExpr(expr.body, inner, context, `${path}.${i}`);
      if (v.kind === "error") return v;
      if (v.kind !== "instance") {
        this.bag.error(
          expr.body.span,
          `the body of \`repeat\` must create a layer, got ${describe(v)}`,
        );
        return { kind: "error" };
      }
      items.push(v.instance);
    }
    return { kind: "stack", path, items };
  }

  evalField(object: Expr, property: Identifier, env: Env, context: "body" | "forward"): Value {
    const base = this.evalExpr(object, env, context);
    if (base.kind === "error") return base;
    if (base.kind === "stack") {
      const index = Number(property.name);
      const item = Number.isInteger(index) ? base.items[index] : undefined;
      if (!item) {
        this.bag.error(
          property.span,
          `'${base.path}' has ${base.items.length} layers; index ${property.name} is out of range`,
        );
        return { kind: "error" };
      }
      return { kind: "instance", instance: item };
    }
    if (base.kind === "instance" && base.instance.env) {
      const v = base.instance.env.vars.get(property.name);
      if (v) return v;
      this.bag.error(
        property.span,
        `'${base.instance.path}' has no member '${property.name}'${suggest(property.name, [...base.instance.env.vars.keys()])}`,
      );
      return { kind: "error" };
    }
    if (base.kind === "instance") {
      const v = base.instance.args.get(property.name);
      if (v) return v;
    }
    this.bag.error(property.span, `${describe(base)} has no member '${property.name}'`);
    return { kind: "error" };
  }

  evalCall(
    expr: Expr & { kind: "Call" },
    env: Env,
    context: "body" | "forward",
    path?: string,
  ): Value {
    const callee = this.evalExpr(expr.callee, env, context);
    if (callee.kind === "error") return callee;
    if (callee.kind === "callable" && callee.target.kind !== "function") {
      if (context !== "body" || path === undefined) {
        this.bag.error(
          expr.span,
          context === "forward"
            ? "layers are declared in the layer body and called in forward; declare this one as `name = ...` outside forward"
            : "a layer must be bound to a name, e.g. `proj = Linear(dim, dim)`",
        );
        return { kind: "error" };
      }
      const instance = this.instantiate(callee.target, expr.args, path, expr.span, env);
      return instance ? { kind: "instance", instance } : { kind: "error" };
    }
    if (context !== "forward") {
      this.bag.error(expr.span, `${describe(callee)} can only be called inside forward`);
      return { kind: "error" };
    }
    for (const arg of expr.args) {
      if (arg.name && callee.kind !== "callable") {
        this.bag.error(arg.name.span, "named arguments are only allowed when creating a layer");
        return { kind: "error" };
      }
    }
    const args = expr.args.map((a) => this.evalExpr(a.value, env, context));
    if (args.some((a) => a.kind === "error")) return { kind: "error" };
    switch (callee.kind) {
      case "callable":
        return this.callFunction(
          callee.target.kind === "function" ? callee.target.name : "split",
          args,
          expr,
          env,
        );
      case "act":
        // `silu(x)`: an activation (a built-in name or an `act` hyper-parameter) applied in forward.
        return this.callFunction(callee.value, args, expr, env);
      case "instance":
        return this.callInstance(callee.instance, args, expr.span);
      case "stack": {
        let current = args;
        for (const item of callee.items) {
          const out = this.callInstance(item, current, expr.span);
          if (out.kind === "error") return out;
          current = [out];
        }
        return current[0]!;
      }
      default:
        this.bag.error(expr.callee.span, `${describe(callee)} is not callable`);
        return { kind: "error" };
    }
  }

  callFunction(name: string, args: Value[], expr: Expr & { kind: "Call" }, env: Env): Value {
    const arity = name === "split" || name === "join" ? 2 : 1;
    if (args.length !== arity) {
      this.bag.error(
        expr.span,
        `${name} takes ${arity} argument${arity > 1 ? "s" : ""}, got ${args.length}`,
      );
      return { kind: "error" };
    }
    const x = args[0]!;
    if (x.kind !== "tensor") {
      this.bag.error(expr.args[0]!.span, `${name} expects a tensor, got ${describe(x)}`);
      return { kind: "error" };
    }
    if (name === "split" || name === "join") {
      const h = args[1]!;
      if (h.kind !== "int" || h.value < 1) {
        this.report(
          expr.args[1]!.span,
          `${name} expects a positive int number of heads, got ${describe(h)}`,
        );
        return { kind: "error" };
      }
      return this.tensorOp(name, [x.value], { heads: h.value }, env, expr.span);
    }
    return this.tensorOp("activation", [x.value], { fn: name as Activation }, env, expr.span);
  }

  /** Adds an op inside forward code, reporting shape errors at the expression. */
  tensorOp<K extends OpName>(
    op: K,
    inputs: number[],
    attrs: OpAttrs[K],
    env: Env,
    span: Span,
    scope = "",
  ): Value {
    try {
      const [out] = this.addNode(op, inputs, attrs, scope || scopeOf(env), span);
      return { kind: "tensor", value: out! };
    } catch (e) {
      if (e instanceof ShapeError) {
        this.report(span, e.message);
        return { kind: "error" };
      }
      throw e;
    }
  }

  callInstance(instance: Instance, args: Value[], span: Span): Value {
    if (instance.callable.kind === "builtin-layer")
      return this.callBuiltin(instance, instance.callable.layer, args, span);
    const def = instance.callable.definition;
    const forward = this.forwardOf(def, span);
    if (!forward) return { kind: "error" };
    if (forward.outputs.length !== 1) {
      this.bag.error(
        span,
        `'${def.name.name}' returns ${forward.outputs.length} tensors; only single-output layers can be called`,
      );
      return { kind: "error" };
    }
    this.#stack.push(def);
    this.#sites.push({ def, span, path: instance.path });
    try {
      const out = this.runForward(def, forward, instance.env!, args, new Map(), span);
      return out?.[0] ?? { kind: "error" };
    } finally {
      this.#sites.pop();
      this.#stack.pop();
    }
  }

  callBuiltin(instance: Instance, layer: BuiltinLayer, args: Value[], span: Span): Value {
    if (args.length !== layer.inputs.length) {
      this.bag.error(
        span,
        `${layer.name} '${instance.path}' takes ${layer.inputs.length} input${layer.inputs.length > 1 ? "s" : ""}, got ${args.length}`,
      );
      return { kind: "error" };
    }
    const inputs: (number | Routing)[] = [];
    for (const [i, kind] of layer.inputs.entries()) {
      const a = args[i]!;
      if (kind === "tensor" && a.kind === "tensor") inputs.push(a.value);
      else if (kind === "routing" && a.kind === "routing") inputs.push(a.routing);
      else {
        this.bag.error(
          span,
          `input ${i + 1} of ${layer.name} '${instance.path}' must be ${kind === "tensor" ? "a tensor" : "a routing decision (the result of a Router)"}, got ${describe(a)}`,
        );
        return { kind: "error" };
      }
    }
    if (layer.name === "Experts") {
      const mismatch = checkRoutingMatchesBank(
        inputs[1] as Routing,
        argsView(instance.args).int("experts"),
      );
      if (mismatch) {
        this.report(span, mismatch);
        return { kind: "error" };
      }
    }
    const elaborator = this;
    try {
      return layer.call(
        {
          builder: this.builder,
          path: instance.path,
          args: argsView(instance.args),
          weight: (suffix) => instance.weights.get(suffix)!,
          op: (op, opInputs, attrs) => elaborator.addNode(op, opInputs, attrs, instance.path, span),
          routingSite: (routing, routed, kept, probs, rows) => {
            // Sub-tokens per token: the coefficient of the symbolic row count (T·h after a split).
            const rowsPerToken = typeof rows === "number" ? 1 : rows.coef;
            const [counts, top1, probSum, dropped] = elaborator.addNode(
              "route_stats",
              [routed, kept, probs],
              { experts: routing.experts, heads: rowsPerToken },
              instance.path,
              span,
            ) as [number, number, number, number];
            elaborator.builder.routing.push({
              scope: instance.path,
              experts: routing.experts,
              topK: routing.topK,
              heads: rowsPerToken,
              rows,
              counts,
              top1,
              probSum,
              dropped,
            });
          },
        },
        inputs,
      );
    } catch (e) {
      if (e instanceof ShapeError) {
        this.report(span, `${layer.name} '${instance.path}': ${e.message}`);
        return { kind: "error" };
      }
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Forward

  runForward(
    def: Definition,
    forward: Forward,
    instanceEnv: Env,
    args: readonly Value[],
    symbols: Map<string, Dim>,
    callSpan: Span,
  ): Value[] | undefined {
    if (args.length !== forward.inputs.length) {
      this.bag.error(
        callSpan,
        `'${def.name.name}' takes ${forward.inputs.length} input${forward.inputs.length === 1 ? "" : "s"}, got ${args.length}`,
      );
      return undefined;
    }
    const env = instanceEnv.child();
    for (const [i, decl] of forward.inputs.entries()) {
      const arg = args[i]!;
      if (arg.kind === "error") return undefined;
      if (arg.kind !== "tensor") {
        this.bag.error(
          callSpan,
          `input '${decl.name.name}' of '${def.name.name}' must be a tensor, got ${describe(arg)}`,
        );
        return undefined;
      }
      if (!this.unify(decl, this.builder.type(arg.value), instanceEnv, symbols, callSpan))
        return undefined;
      env.vars.set(decl.name.name, arg);
    }
    for (const stmt of forward.body) {
      if (
        stmt.kind === "Assign" &&
        !env.vars.has(stmt.name.name) &&
        !env.pending.has(stmt.name.name)
      )
        env.pending.set(stmt.name.name, stmt.name);
    }
    for (const stmt of forward.body) {
      if (stmt.kind === "Assign") {
        const name = stmt.name.name;
        env.defining = env.vars.has(name) ? undefined : name;
        const value = this.evalExpr(stmt.value, env, "forward");
        env.defining = undefined;
        env.pending.delete(name);
        env.vars.set(name, value);
        continue;
      }
      if (stmt.values.length !== forward.outputs.length) {
        this.bag.error(
          stmt.span,
          `'${def.name.name}' declares ${forward.outputs.length} output${forward.outputs.length === 1 ? "" : "s"} but returns ${stmt.values.length}`,
        );
        return undefined;
      }
      const results = stmt.values.map((e) => this.evalExpr(e, env, "forward"));
      for (const [i, v] of results.entries()) {
        if (v.kind === "error") return undefined;
        const decl = forward.outputs[i]!;
        if (v.kind !== "tensor") {
          this.bag.error(
            stmt.values[i]!.span,
            `output '${decl.name.name}' must be a tensor, got ${describe(v)}`,
          );
          return undefined;
        }
        if (
          !this.unify(decl, this.builder.type(v.value), instanceEnv, symbols, stmt.values[i]!.span)
        )
          return undefined;
      }
      return results;
    }
    this.bag.error(forward.span, `forward of '${def.name.name}' has no return`);
    return undefined;
  }

  /** Evaluates a declared tensor type; unknown names are symbolic dims (bound in `symbols`). */
  declaredType(
    decl: TensorDecl,
    env: Env,
    symbols: Map<string, Dim>,
    bindFresh: boolean,
  ): TensorType | undefined {
    if (decl.type.dtype !== "f32" && decl.type.dtype !== "i32") {
      this.bag.error(decl.type.span, `${decl.type.dtype} tensors are not supported yet; use f32`);
      return undefined;
    }
    const shape: Dim[] = [];
    for (const dimExpr of decl.type.dims) {
      const d = this.evalDim(dimExpr, env, symbols, bindFresh);
      if (d === undefined) return undefined;
      shape.push(d);
    }
    return { dtype: decl.type.dtype, shape };
  }

  evalDim(expr: Expr, env: Env, symbols: Map<string, Dim>, bindFresh: boolean): Dim | undefined {
    if (expr.kind === "Identifier" && !env.lookup(expr.name)) {
      if (!symbols.has(expr.name) && bindFresh) symbols.set(expr.name, { sym: expr.name, coef: 1 });
      return symbols.get(expr.name) ?? { sym: `?${expr.name}`, coef: 1 };
    }
    if (expr.kind === "Binary" && expr.op === "*") {
      const [symSide, numSide] =
        expr.left.kind === "Identifier" && !env.lookup(expr.left.name)
          ? [expr.left, expr.right]
          : [expr.right, expr.left];
      if (symSide.kind === "Identifier" && !env.lookup(symSide.name)) {
        const base = this.evalDim(symSide, env, symbols, bindFresh);
        const factor = this.evalExpr(numSide, env, "body");
        if (base === undefined || factor.kind !== "int") return undefined;
        return typeof base === "number"
          ? base * factor.value
          : { sym: base.sym, coef: base.coef * factor.value };
      }
    }
    const v = this.evalExpr(expr, env, "body");
    if (v.kind === "error") return undefined;
    if (v.kind !== "int" || v.value < 1) {
      this.report(expr.span, `a dimension must be a positive int or a symbol, got ${describe(v)}`);
      return undefined;
    }
    if (v.value > LIMITS.maxDim) {
      this.report(expr.span, `dimension ${v.value} exceeds the limit of ${LIMITS.maxDim}`);
      return undefined;
    }
    return v.value;
  }

  /** Matches an actual tensor type against a declaration, binding its symbolic dims. */
  unify(
    decl: TensorDecl,
    actual: TensorType,
    env: Env,
    symbols: Map<string, Dim>,
    at: Span,
  ): boolean {
    const mismatch = () => {
      const declared = this.declaredType(decl, env, new Map(symbols), false);
      this.report(
        at,
        `'${decl.name.name}' expects ${declared ? formatType(declared) : "another type"}, got ${formatType(actual)}`,
        [{ message: `'${decl.name.name}' is declared here`, span: decl.span }],
      );
      return false;
    };
    if (decl.type.dtype !== actual.dtype || decl.type.dims.length !== actual.shape.length)
      return mismatch();
    for (const [i, dimExpr] of decl.type.dims.entries()) {
      const got = actual.shape[i]!;
      const free = freeSymbol(dimExpr, env);
      if (free && !symbols.has(free.name)) {
        // Bind the symbol so that coef * symbol == got.
        if (typeof got === "number") {
          if (got % free.coef !== 0) return mismatch();
          symbols.set(free.name, got / free.coef);
        } else {
          if (got.coef % free.coef !== 0) return mismatch();
          symbols.set(free.name, { sym: got.sym, coef: got.coef / free.coef });
        }
        continue;
      }
      const want = this.evalDim(dimExpr, env, symbols, false);
      if (want === undefined) return false;
      if (!dimEquals(want, got)) return mismatch();
    }
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** A call being elaborated: of a user definition (instantiation, or a forward call). */
interface Site {
  readonly def: Definition;
  /** The call, in the caller's code (the model's name for the model itself). */
  readonly span: Span;
  /** The instance's weight-name path. */
  readonly path: string;
  /** The arguments written at an instantiation, to follow hyper-parameters back through. */
  readonly args?: readonly Argument[];
}

function contains(outer: Span, inner: Span): boolean {
  return (
    outer.file === inner.file &&
    outer.startOffset <= inner.startOffset &&
    inner.endOffset <= outer.endOffset
  );
}

function freeSymbol(expr: Expr, env: Env): { name: string; coef: number } | undefined {
  if (expr.kind === "Identifier" && !env.lookup(expr.name)) return { name: expr.name, coef: 1 };
  if (expr.kind === "Binary" && expr.op === "*") {
    const [a, b] = [expr.left, expr.right];
    if (a.kind === "Identifier" && !env.lookup(a.name) && b.kind === "Int")
      return { name: a.name, coef: b.value };
    if (b.kind === "Identifier" && !env.lookup(b.name) && a.kind === "Int")
      return { name: b.name, coef: a.value };
  }
  return undefined;
}

function argsView(bound: ReadonlyMap<string, Value>): Args {
  const get = (name: string) => bound.get(name) as { value: unknown } | undefined;
  return {
    int: (n) => get(n)?.value as number,
    float: (n) => get(n)?.value as number,
    bool: (n) => get(n)?.value as boolean,
    string: (n) => get(n)?.value as string,
    act: (n) => get(n)?.value as Activation,
  };
}

function argSpan(
  args: readonly Argument[],
  params: readonly { name: string }[],
  name: string,
): Span | undefined {
  const named = args.find((a) => a.name?.name === name);
  if (named) return named.value.span;
  const index = params.findIndex((p) => p.name === name);
  const positional = args.filter((a) => !a.name);
  return positional[index]?.value.span;
}

/** The argument bound to a user definition's hyper-parameter, if it was written in a call. */
function argSpanOf(
  args: Map<string, Value> | readonly Argument[],
  params: readonly HyperParam[],
  name: string,
): Span | undefined {
  if (args instanceof Map) return undefined;
  return argSpan(
    args,
    params.map((p) => ({ name: p.name.name })),
    name,
  );
}

function joinPath(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

function scopeOf(env: Env): string {
  return env.path;
}

function namesIn(env: Env | undefined): string[] {
  const out: string[] = [];
  for (let e = env; e; e = e.parent) out.push(...e.vars.keys());
  return out;
}

export function parseLiteral(raw: string, type: string): Value | undefined {
  switch (type) {
    case "int":
      return /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw))
        ? { kind: "int", value: Number(raw) }
        : undefined;
    case "float":
      return raw !== "" && Number.isFinite(Number(raw))
        ? { kind: "float", value: Number(raw) }
        : undefined;
    case "bool":
      return raw === "true" || raw === "false"
        ? { kind: "bool", value: raw === "true" }
        : undefined;
    case "act":
      return (ACTIVATIONS as readonly string[]).includes(raw)
        ? { kind: "act", value: raw as Activation }
        : undefined;
    case "string":
      return { kind: "string", value: raw };
    default:
      return undefined;
  }
}

/**
 * ` (did you mean 'x'?)` for the closest known name within a small edit distance. Names shorter
 * than 3 characters get no suggestion (any short name is "close" to any other), and a
 * one-letter name (a loop index, a symbolic dim) is never suggested.
 */
export function suggest(name: string, known: Iterable<string>): string {
  if (name.length < 3) return "";
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of new Set(known)) {
    if (k.length < 2) continue;
    const d = editDistance(name, k);
    if (d < bestDistance && k !== name) [best, bestDistance] = [k, d];
  }
  return best ? ` (did you mean '${best}'?)` : "";
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Checks on the text of every loaded file: names declared twice in one parameter list or forward
 * signature, and definitions that shadow a built-in.
 */
function checkDeclarations(program: LoadedProgram, bag: DiagnosticBag): void {
  const once = (names: readonly Identifier[], what: string, owner: string): void => {
    const first = new Map<string, Identifier>();
    for (const id of names) {
      const previous = first.get(id.name);
      if (previous) {
        bag.error(id.span, `${what} '${id.name}' of '${owner}' is declared twice`, [
          { message: `first declaration of '${id.name}'`, span: previous.span },
        ]);
      } else first.set(id.name, id);
    }
  };
  for (const file of program.files.values()) {
    for (const def of file.definitions) {
      const owner = def.name.name;
      once(
        def.params.map((p) => p.name),
        "hyper-parameter",
        owner,
      );
      for (const m of def.members) {
        if (m.kind !== "Forward") continue;
        once(
          m.inputs.map((i) => i.name),
          "forward input",
          owner,
        );
        // An unnamed output is called `y` (its name's span is its type's); only written names count.
        once(
          m.outputs
            .filter((o) => o.name.span.startOffset !== o.type.span.startOffset)
            .map((o) => o.name),
          "forward output",
          owner,
        );
      }
      const builtin = BUILTIN_LAYERS.has(owner)
        ? `the built-in layer ${owner}`
        : (ACTIVATIONS as readonly string[]).includes(owner)
          ? `the activation ${owner}`
          : owner === "split" || owner === "join"
            ? `the built-in function ${owner}`
            : undefined;
      if (builtin)
        bag.warning(
          def.name.span,
          `'${owner}' shadows ${builtin}: in files that see this definition, '${owner}' means this ${def.role}`,
        );
    }
  }
}

/** Warns about hyper-parameters and bindings a definition never uses (checked on the text). */
function warnUnused(program: LoadedProgram, bag: DiagnosticBag): void {
  for (const file of program.files.values()) {
    for (const def of file.definitions) {
      const used = new Set<string>();
      const visit = (e: Expr | undefined): void => {
        if (!e) return;
        switch (e.kind) {
          case "Identifier":
            used.add(e.name);
            return;
          case "Unary":
            return visit(e.operand);
          case "Binary":
            visit(e.left);
            return visit(e.right);
          case "Conditional":
            visit(e.condition);
            visit(e.then);
            return visit(e.otherwise);
          case "Repeat":
            visit(e.count);
            return visit(e.body);
          case "FieldAccess":
            return visit(e.object);
          case "Call":
            visit(e.callee);
            return e.args.forEach((a) => visit(a.value));
          default:
            return;
        }
      };
      def.params.forEach((p) => visit(p.default));
      for (const m of def.members) {
        if (m.kind === "Binding") visit(m.value);
        else if (m.kind === "Requirement") visit(m.condition);
        else {
          m.inputs.forEach((i) => i.type.dims.forEach(visit));
          m.outputs.forEach((o) => o.type.dims.forEach(visit));
          const assigned = new Map<string, Identifier>();
          for (const s of m.body) {
            if (s.kind === "Assign") {
              visit(s.value);
              assigned.set(s.name.name, s.name);
            } else s.values.forEach(visit);
          }
          for (const [name, id] of assigned) {
            if (!usedIn(m, name)) bag.warning(id.span, `value '${name}' is never used`);
          }
        }
      }
      for (const p of def.params) {
        if (!used.has(p.name.name))
          bag.warning(
            p.name.span,
            `hyper-parameter '${p.name.name}' of '${def.name.name}' is never used`,
          );
      }
      for (const m of def.members) {
        if (m.kind === "Binding" && !used.has(m.name.name))
          bag.warning(m.name.span, `'${m.name.name}' in '${def.name.name}' is never used`);
      }
    }
  }
}

function usedIn(forward: Forward, name: string): boolean {
  let found = false;
  const visit = (e: Expr): void => {
    if (found) return;
    if (e.kind === "Identifier") found = e.name === name;
    else if (e.kind === "Unary") visit(e.operand);
    else if (e.kind === "Binary") [e.left, e.right].forEach(visit);
    else if (e.kind === "Conditional") [e.condition, e.then, e.otherwise].forEach(visit);
    else if (e.kind === "FieldAccess") visit(e.object);
    else if (e.kind === "Call") [e.callee, ...e.args.map((a) => a.value)].forEach(visit);
  };
  for (const s of forward.body) (s.kind === "Assign" ? [s.value] : s.values).forEach(visit);
  return found;
}
