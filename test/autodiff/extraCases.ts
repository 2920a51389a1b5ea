// Gradient cases of the ops Hugging Face architectures add (models/std/hf.moe): column surgery
// (DeepSeek's multi-head latent attention), per-row scaling (Qwen2-MoE's shared-expert gate) and
// DeepSeek-V3's grouped sigmoid router. Checked like GRAD_CASES: against finite differences in
// float64 (ops.test.ts) and on the GPU against the float64 reference (gpu.test.ts).
import type { OpAttrs, RefTensor } from "../../compiler/ir/ops.js";
import { topKIndices } from "../../compiler/ir/ops.js";
import { Case, type GradCase } from "./cases.js";
import { randomRef } from "./gradcheck.js";

/** Keys closer than this would let a perturbation or f32 rounding change the selection. */
const MIN_SELECTION_GAP = 1e-3;

/**
 * The smallest gap, over the rows, between what the grouped router keeps and what it drops: the
 * k-th and (k+1)-th kept group scores, and the k-th and (k+1)-th expert scores after masking.
 * Written from the router's definition, independently of the code under test.
 */
function selectionGap(
  logits: RefTensor,
  bias: RefTensor | undefined,
  { topK, groups, topkGroups }: OpAttrs["route_grouped"],
): number {
  const [n, experts] = logits.shape as [number, number];
  const size = experts / groups;
  const gapAfter = (values: number[], k: number) => {
    const sorted = [...values].sort((a, b) => b - a);
    return k < sorted.length ? sorted[k - 1]! - sorted[k]! : Infinity;
  };
  let gap = Infinity;
  for (let r = 0; r < n; r++) {
    const choice = Array.from(
      { length: experts },
      (_, e) => 1 / (1 + Math.exp(-logits.data[r * experts + e]!)) + (bias?.data[e] ?? 0),
    );
    const groupScore = Array.from({ length: groups }, (_, g) => {
      const members = choice.slice(g * size, (g + 1) * size).sort((a, b) => b - a);
      return members[0]! + members[1]!;
    });
    gap = Math.min(gap, gapAfter(groupScore, topkGroups));
    const kept = new Set(topKIndices(groupScore, topkGroups));
    const masked = choice.map((s, e) => (kept.has(Math.floor(e / size)) ? s : 0));
    gap = Math.min(gap, gapAfter(masked, topK));
  }
  return gap;
}

/**
 * DeepSeek-V3's router on random logits (6 rows, 8 experts in 4 groups, the best 2 groups kept,
 * top 3), with or without renormalisation and a selection bias; outputs the gates, and the
 * probabilities too when `probs`.
 */
function groupedRoute(renorm: boolean, withBias: boolean, probs: boolean): Case {
  const attrs = { topK: 3, groups: 4, topkGroups: 2, renorm, scale: 2.5 };
  const c = new Case();
  const logits = c.input("logits", [6, 8]);
  const logitData = randomRef([6, 8], 11, 2);
  c.leaves.inputs.set("logits", logitData);
  let bias: number | undefined;
  let biasData: RefTensor | undefined;
  if (withBias) {
    // The bias only selects, so it has no gradient: it is made from an input of whole numbers,
    // which the checks skip as they skip token ids, scaled into the range of the scores.
    const steps = Float64Array.from([2, -1, 0, 3, -2, 1, -3, 2]);
    const raw = c.input("bias_steps", [8]);
    c.leaves.inputs.set("bias_steps", { shape: [8], data: steps });
    bias = c.op("scale", [raw], { factor: 0.05 })[0]!;
    biasData = { shape: [8], data: steps.map((s) => 0.05 * s) };
  }
  const gap = selectionGap(logitData, biasData, attrs);
  if (gap < MIN_SELECTION_GAP) throw new Error(`grouped-route case has a near tie (${gap})`);
  const ins = bias === undefined ? [logits] : [logits, bias];
  const [expert, gate, p] = c.op("route_grouped", ins, attrs);
  // The expert ids (integers: no cotangent) let ops.test.ts check what the bias and groups select.
  return probs ? c.output(gate!, p!, expert!) : c.output(gate!, expert!);
}

export const EXTRA_GRAD_CASES: readonly GradCase[] = [
  {
    title: "slice_cols: two overlapping bands of one matrix",
    build: () => {
      const c = new Case();
      const x = c.input("x", [5, 7]);
      const a = c.op("slice_cols", [x], { start: 1, width: 3 })[0]!;
      const b = c.op("slice_cols", [x], { start: 2, width: 4 })[0]!;
      return c.output(a, b);
    },
  },
  {
    title: "concat_cols",
    build: () => {
      const c = new Case();
      const ab = [c.input("a", [4, 3]), c.input("b", [4, 2])];
      return c.output(c.op("concat_cols", ab, {})[0]!);
    },
  },
  {
    title: "repeat_rows",
    build: () => {
      const c = new Case();
      return c.output(c.op("repeat_rows", [c.input("x", [3, 4])], { times: 3 })[0]!);
    },
  },
  {
    title: "scale_rows: rows and their factors",
    build: () => {
      const c = new Case();
      const xs = [c.input("x", [5, 4]), c.input("s", [5, 1])];
      return c.output(c.op("scale_rows", xs, {})[0]!);
    },
  },
  {
    title: "latent attention's column surgery: slice, repeat, concat",
    build: () => {
      const c = new Case();
      const latent = c.input("latent", [3, 6]);
      const shared = c.op("slice_cols", [latent], { start: 4, width: 2 })[0]!;
      const repeated = c.op("repeat_rows", [shared], { times: 2 })[0]!;
      const heads = c.op("split", [c.input("heads", [3, 6])], { heads: 2 })[0]!;
      const nope = c.op("slice_cols", [heads], { start: 0, width: 2 })[0]!;
      const key = c.op("concat_cols", [nope, repeated], {})[0]!;
      return c.output(c.op("join", [key], { heads: 2 })[0]!);
    },
  },
  ...[true, false].flatMap((renorm) =>
    [false, true].map((withBias) => ({
      title: `route_grouped (${renorm ? "renorm" : "no renorm"}${withBias ? ", selection bias" : ""}): gates and probabilities`,
      build: () => groupedRoute(renorm, withBias, true),
    })),
  ),
  {
    title: "route_grouped (renorm, selection bias): gates only",
    build: () => groupedRoute(true, true, false),
  },
];
