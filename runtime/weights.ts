// Seeded initial weights for a compiled model (the CLI's `--seed N`): each tensor depends only on
// (seed, name), see runtime/random.ts. Browser-safe.
import type { Graph } from "../compiler/ir/graph.js";
import { weightNodes } from "../compiler/ir/graph.js";
import type { InitKind, Plan } from "../plan/format.js";
import { initWeight } from "./random.js";

export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: InitKind;
  readonly fanIn: number;
}

/** The weights a graph or plan declares, stacked expert tensors under their `{e}` names. */
export function weightSpecs(model: Graph | Plan): WeightSpec[] {
  if ("format" in model) {
    return model.buffers.flatMap((b) =>
      b.kind === "weight" ? [{ name: b.name, shape: b.shape, init: b.init, fanIn: b.fanIn }] : [],
    );
  }
  return weightNodes(model).map((node) => {
    const shape = model.values[node.outputs[0]!]!.type.shape;
    if (!shape.every((d): d is number => typeof d === "number")) {
      throw new Error(`weight ${node.attrs.name} has a symbolic shape`);
    }
    return { name: node.attrs.name, shape, init: node.attrs.init, fanIn: node.attrs.fanIn };
  });
}

/** Initial weights by name (stacked `{e}` tensors as one Float32Array each). */
export function initWeights(model: Graph | Plan, seed: number): Map<string, Float32Array> {
  return new Map(
    weightSpecs(model).map((w) => [w.name, initWeight(w.name, w.shape, seed, w.init, w.fanIn)]),
  );
}
