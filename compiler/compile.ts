// From a checked graph to an execution plan: the pass pipeline of the chosen level, then code
// generation. -O0 schedules one straightforward kernel per IR op; -O2 fuses (design.md section 6).
import { FUSED_KERNELS } from "./codegen/kernels/fused.js";
import { BASELINE_PROFILE, type DeviceProfile } from "./codegen/profile.js";
import type { Graph } from "./ir/graph.js";
import type { DimBindings } from "./ir/types.js";
import { type OptLevel, runPipeline } from "./passes/index.js";
import { type Plan, buildPlan } from "./plan.js";

export interface CompileOptions {
  readonly level?: OptLevel;
  readonly profile?: DeviceProfile;
  /** Fix symbolic dims (T) at compile time; default: sizes stay symbolic in the plan. */
  readonly bindings?: DimBindings;
  /** IR values of the optimised graph to keep readable after a run (tests compare them). */
  readonly keep?: (optimised: Graph) => readonly number[];
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
  });
  return { graph, stages, plan };
}
