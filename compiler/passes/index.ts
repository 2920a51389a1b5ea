// The pass pipeline: one ordered list of named passes, each IR -> IR in its own file, with the
// IR verified after every pass. `moec graph --stage NAME` prints the graph after pass NAME.
import type { Graph } from "../ir/graph.js";
import type { DimBindings } from "../ir/types.js";
import { verifyGraph } from "../ir/verify.js";
import { eliminateCommonSubexpressions } from "./cse.js";
import { eliminateDeadCode } from "./dce.js";
import { fuseEpilogues } from "./fuseEpilogues.js";
import { fuseMoe } from "./fuseMoe.js";
import { simplify } from "./simplify.js";
import { specializeShapes } from "./specialize.js";

export type OptLevel = 0 | 2;

export interface PassOptions {
  readonly level: OptLevel;
  /** Fixed values for symbolic dims (e.g. T for a benchmark); empty keeps shapes symbolic. */
  readonly bindings?: DimBindings;
}

export interface Pass {
  readonly name: string;
  /** Why the pass sits where it does. */
  readonly why: string;
  readonly minLevel: OptLevel;
  readonly run: (graph: Graph, options: PassOptions) => Graph;
}

export const PIPELINE: readonly Pass[] = [
  {
    name: "specialize",
    why: "fixed sizes let codegen pick tiles and size buffers statically",
    minLevel: 0,
    run: (g, o) => specializeShapes(g, o.bindings ?? {}),
  },
  {
    name: "simplify",
    why: "cancels split/join pairs before patterns are matched",
    minLevel: 2,
    run: simplify,
  },
  {
    name: "cse",
    why: "repeated calls of one layer on one input compute once",
    minLevel: 2,
    run: eliminateCommonSubexpressions,
  },
  {
    name: "dce",
    why: "drops work whose result reaches no output before fusion sizes kernels",
    minLevel: 2,
    run: eliminateDeadCode,
  },
  {
    name: "fuse-moe",
    why: "route, permute, grouped GEMMs and combine-in-consumer (design.md section 6)",
    minLevel: 2,
    run: fuseMoe,
  },
  {
    name: "fuse-epilogues",
    why: "bias, activation, gating and residual adds run inside their linear",
    minLevel: 2,
    run: fuseEpilogues,
  },
];

export const STAGE_NAMES = ["lowered", ...PIPELINE.map((p) => p.name)];

export interface PipelineResult {
  readonly graph: Graph;
  /** The graph after each stage that ran, by name (`lowered` first). */
  readonly stages: ReadonlyMap<string, Graph>;
}

export function runPipeline(graph: Graph, options: PassOptions): PipelineResult {
  const stages = new Map<string, Graph>([["lowered", graph]]);
  let current = graph;
  for (const pass of PIPELINE) {
    if (options.level < pass.minLevel) continue;
    current = pass.run(current, options);
    const problems = verifyGraph(current);
    if (problems.length > 0) {
      throw new Error(
        `internal error: pass '${pass.name}' produced an invalid graph:\n${problems.join("\n")}`,
      );
    }
    stages.set(pass.name, current);
  }
  return { graph: current, stages };
}
