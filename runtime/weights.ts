// Seeded initial weights for a compiled model (the CLI's `--seed N`): each tensor depends only on
// (seed, name), see runtime/random.ts. Browser-safe.
import type { InitKind, Plan } from "../plan/format.js";
import { initWeight } from "./random.js";

export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: InitKind;
  readonly fanIn: number;
}

/** The weights a plan declares, stacked expert tensors under their `{e}` names. */
export function weightSpecs(plan: Plan): WeightSpec[] {
  // A bank split across buffers (PlanBuffer.experts) is one weight.
  return plan.buffers.flatMap((b) =>
    b.kind === "weight" && (b.experts?.[0] ?? 0) === 0
      ? [{ name: b.name, shape: b.shape, init: b.init, fanIn: b.fanIn }]
      : [],
  );
}

/**
 * Initial weights by name (stacked `{e}` tensors as one Float32Array each), for a plan or a list
 * of weight specs (the compiler's weightDecls(graph) gives the same list without a plan).
 */
export function initWeights(
  model: Plan | readonly WeightSpec[],
  seed: number,
): Map<string, Float32Array> {
  const specs = "format" in model ? weightSpecs(model) : model;
  return new Map(specs.map((w) => [w.name, initWeight(w.name, w.shape, seed, w.init, w.fanIn)]));
}
