// BitNet b1.58 in training (arXiv 2402.17764 and its training code): the quantisers as f32 → f32
// "fake quantisation", y = x + stop_gradient(quant(x) − x). Forward values equal what the
// inference ops compute (act_quant's q · scale; a t2 weight's γ · t, here from its f32 master);
// the gradient is the straight-through estimator: dx = dy, unchanged. For activations that is
// the identity inside the clip range, which absmax scaling never leaves (|x · 127/absmax| ≤ 127);
// for weights the reference code passes the gradient to the master W everywhere, clipped or not.
// The scales (absmax, γ) are constants of the estimator: no gradient flows through them.
import { quantizeRows, ternarize } from "../../../plan/bitnet.js";
import { formatType } from "../types.js";
import type { GradRule, OpFamily, OpName } from "./def.js";
import { elementwiseCost, expect, last, numel, tensor } from "./helpers.js";

/** The straight-through estimator: the input's cotangent is the output's. */
const straightThrough =
  <K extends OpName>(): GradRule<K> =>
  ({ dOutputs: [dy] }) => [dy];

export const BITNET_STE_OPS: OpFamily<"act_quant_ste" | "weight_quant_ste"> = {
  act_quant_ste: {
    arity: [1, 1],
    infer: ([x]) => {
      expect(x!.dtype === "f32", `quantised layers take f32 inputs, got ${formatType(x!)}`);
      expect(x!.shape.length >= 1, "quantised input must have rank at least 1");
      return [x!];
    },
    cost: elementwiseCost(4),
    evaluate: ([x]) => {
      const d = last(x!.shape);
      const { values, scales } = quantizeRows(x!.data, d);
      return [
        tensor(
          x!.shape,
          Float64Array.from(values, (q, i) => q * scales[Math.floor(i / d)]!),
        ),
      ];
    },
    grad: straightThrough(),
  },

  weight_quant_ste: {
    arity: [1, 1],
    infer: ([w]) => {
      expect(
        w!.dtype === "f32" && (w!.shape.length === 2 || w!.shape.length === 3),
        `a ternary master weight is an f32 matrix or a stack of them, got ${formatType(w!)}`,
      );
      return [w!];
    },
    cost: elementwiseCost(3),
    evaluate: ([w]) => {
      // One γ per matrix: per expert for stacked expert weights, as at load time.
      const size = numel(w!.shape.slice(-2) as number[]);
      const out = tensor(w!.shape);
      for (let m = 0; m < w!.data.length / size; m++) {
        const { values, scale } = ternarize(w!.data.subarray(m * size, (m + 1) * size));
        values.forEach((t, i) => (out.data[m * size + i] = t * scale));
      }
      return [out];
    },
    grad: straightThrough(),
  },
};
