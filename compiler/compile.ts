// The one compile entry, from a checked graph to an execution plan: the pass pipeline of the
// chosen level, then code generation for the device profile. -O0 schedules one straightforward
// kernel per IR op; -O2 fuses (design.md section 6). The CLI, the benchmarks and the playground
// call this; none of them assembles the pipeline itself.
import type { DeviceProfile } from "../plan/profile.js";
import { BASELINE_PROFILE } from "../plan/profile.js";
import type { TilingChoices } from "./codegen/kernels/common.js";
import { FUSED_KERNELS } from "./codegen/kernels/fused.js";
import type { Graph } from "./ir/graph.js";
import type { DimBindings } from "./ir/types.js";
import { type OptLevel, runPipeline } from "./passes/index.js";
import { type Plan, buildPlan } from "./plan.js";

export type { TilingChoices } from "./codegen/kernels/common.js";

export interface CompileOptions {
  /** 0: one kernel per IR op; 2 (default): fused. */
  readonly level?: OptLevel;
  /** The limits and features code generation targets (default: BASELINE_PROFILE). */
  readonly profile?: DeviceProfile;
  /** Fix symbolic dims (T) at compile time; default: sizes stay symbolic in the plan. */
  readonly bindings?: DimBindings;
  /**
   * Codegen choices to fix, e.g. `{ gemm: { tm: 8, tn: 2 } }` for every GEMM; default: chosen
   * per kernel from the profile and shape. The plan records what each kernel got.
   */
  readonly tiling?: TilingChoices;
  /** IR values of the optimised graph to keep readable after a run (tests compare them). */
  readonly keep?: (optimised: Graph) => readonly number[];
  /** Weights on the GPU as f32 (default) or f16 (with shader-f16; f32 arithmetic). */
  readonly weights?: "f32" | "f16";
}

export interface Compiled {
  readonly graph: Graph;
  readonly stages: ReadonlyMap<string, Graph>;
  readonly plan: Plan;
}

export function compileGraph(lowered: Graph, options: CompileOptions = {}): Compiled {
  const level = options.level ?? 2;
  const { graph, stages } = runPipeline(lowered, { level, bindings: options.bindings });
  const plan = buildPlan(graph, options.profile ?? BASELINE_PROFILE, {
    kernels: level >= 2 ? FUSED_KERNELS : undefined,
    keep: options.keep?.(graph),
    ...(options.tiling && { tiling: options.tiling }),
    ...(options.weights && { weights: options.weights }),
  });
  return { graph, stages, plan };
}
