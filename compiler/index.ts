// The compiler's front door: source -> AST -> checked IR. Later stages (passes, codegen, plan)
// take the Graph this returns.
import type { Diagnostic } from "../grammar/diagnostics.js";
import type { Graph } from "./ir/graph.js";
import { verifyGraph } from "./ir/verify.js";
import { type LowerOptions, lowerProgram } from "./lower.js";
import { type LoadedProgram, type SourceHost, loadProgram } from "./sources.js";

export interface FrontEndResult {
  readonly program: LoadedProgram;
  readonly graph?: Graph;
  readonly model?: string;
  readonly hyperParams: ReadonlyMap<string, number | boolean | string>;
  readonly diagnostics: readonly Diagnostic[];
}

export function compileToIR(
  entry: string,
  host: SourceHost,
  options: LowerOptions = {},
): FrontEndResult {
  const program = loadProgram(entry, host);
  const lowered = lowerProgram(program, options);
  if (lowered.graph) {
    const problems = verifyGraph(lowered.graph);
    // A broken graph is our bug, not the user's: say so plainly rather than run it.
    if (problems.length > 0)
      throw new Error(
        `internal error: lowering produced an invalid graph:\n${problems.join("\n")}`,
      );
  }
  return { program, ...lowered };
}

export type { LowerOptions } from "./lower.js";
export type { SourceHost } from "./sources.js";
