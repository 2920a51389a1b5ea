// Compiling in the page: the edited source shadows its bundled file, imports resolve to the
// bundled library through memoryHost. Nothing here throws at the user: an internal error of the
// compiler comes back as a message.
import { compileGraph } from "../../../compiler/compile.js";
import { compileToIR } from "../../../compiler/index.js";
import type { Graph } from "../../../compiler/ir/graph.js";
import { type RouteValues, routeValueIds } from "../../../runtime/routes.js";
import { routeValues } from "./routeValues.js";
import type { Plan } from "../../../compiler/plan.js";
import { memoryHost } from "../../../compiler/sources.js";
import {
  type Diagnostic,
  formatDiagnostic,
  sortDiagnostics,
} from "../../../grammar/diagnostics.js";
import { MODEL_FILES } from "./models.js";

export interface CompileRequest {
  /** Where the edited text lives, e.g. `models/smoe.moe` (its imports resolve from there). */
  readonly path: string;
  readonly source: string;
  /** `name=value` hyper-parameter overrides. */
  readonly overrides: readonly string[];
  readonly level: 0 | 2;
}

export interface Checked {
  readonly diagnostics: readonly Diagnostic[];
  /** Each diagnostic as `file:line:col: severity: message` with its caret snippet. */
  readonly formatted: readonly string[];
  readonly graph?: Graph;
  readonly model?: string;
  readonly ms: number;
}

export interface Compiled extends Checked {
  readonly plan?: Plan;
  readonly lowered?: Graph;
  /** The graph after each pass that ran (`lowered` first). */
  readonly stages?: ReadonlyMap<string, Graph>;
  readonly backMs?: number;
  /** Where each routing site's expert ids and gates live (the plan keeps them). */
  readonly routes?: readonly RouteValues[];
  /** A failure that is not a diagnostic (internal error, plan limits). */
  readonly failure?: string;
}

/** `dim=32 experts=4, ffn=64` -> ["dim=32", "experts=4", "ffn=64"]. */
export function parseOverrides(text: string): string[] {
  return text.split(/[\s,;]+/).filter((s) => s.length > 0);
}

/** Front end only (parse, check, lower): what runs as the user types. */
export function check(request: CompileRequest): Checked {
  const t = performance.now();
  const host = memoryHost({ ...MODEL_FILES, [request.path]: request.source });
  try {
    const result = compileToIR(request.path, host, { overrides: request.overrides });
    const diagnostics = sortDiagnostics(result.diagnostics);
    return {
      diagnostics,
      formatted: diagnostics.map((d) => formatDiagnostic(d, result.program.texts)),
      graph: result.graph,
      model: result.model,
      ms: performance.now() - t,
    };
  } catch (err) {
    const message = `internal compiler error: ${err instanceof Error ? err.message : String(err)}`;
    return { diagnostics: [], formatted: [message], ms: performance.now() - t };
  }
}

/** Front end, then the pass pipeline and code generation of the chosen level. */
export function compile(request: CompileRequest): Compiled {
  const front = check(request);
  if (!front.graph) {
    return { ...front, failure: front.diagnostics.length === 0 ? front.formatted[0] : undefined };
  }
  const t = performance.now();
  try {
    const { graph, stages, plan } = compileGraph(front.graph, {
      level: request.level,
      keep: (optimised) => routeValueIds(routeValues(optimised)),
    });
    return {
      ...front,
      graph,
      plan,
      routes: routeValues(graph),
      lowered: front.graph,
      stages,
      backMs: performance.now() - t,
    };
  } catch (err) {
    return { ...front, failure: err instanceof Error ? err.message : String(err) };
  }
}
