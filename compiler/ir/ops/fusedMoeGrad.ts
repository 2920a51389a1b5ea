// Fused backward ops of the expert bank, made by the -O2 MoE fusion (passes/fuseMoe.ts) from the
// unfused ones of ops/moeGrad.ts: the same numbers, computed over the counting sort's expert
// segments (`order`, `offsets` of moe_permute) instead of scanning every assignment. The expert
// ids stay an input so the reference semantics are the unfused op's.
import type { OpFamily, RefTensor } from "./def.js";
import { MOE_GRAD_OPS } from "./moeGrad.js";
import { elementwiseCost, expect, numel, rank, tensor } from "./helpers.js";
import { shapeEquals } from "../types.js";

export const FUSED_MOE_GRAD_OPS: OpFamily<
  | "moe_grouped_weight_grad"
  | "moe_grouped_backprop"
  | "moe_grouped_up_grad"
  | "moe_down_grad"
  | "moe_gate_bias_grad"
> = {
  /** expert_weight_grad over each expert's segment: inputs (x, expert, order, offsets, dout). */
  moe_grouped_weight_grad: {
    arity: [5, 5],
    infer: ([x, expert, , , dout], attrs) =>
      MOE_GRAD_OPS.expert_weight_grad.infer([x!, expert!, dout!], attrs),
    cost: ([x, e, , , d], outs, attrs) =>
      MOE_GRAD_OPS.expert_weight_grad.cost([x!, e!, d!], outs, attrs),
    evaluate: ([x, expert, , , dout], attrs) =>
      MOE_GRAD_OPS.expert_weight_grad.evaluate!([x!, expert!, dout!], attrs),
  },

  /**
   * Per assignment, d[a]·W[e] (expert_backprop without the sum over choices, which a combine
   * adds): inputs (d, expert, order, offsets, w).
   */
  moe_grouped_backprop: {
    arity: [5, 5],
    infer: ([d, expert, , , w]) =>
      MOE_GRAD_OPS.expert_backprop.infer([d!, expert!, w!], { sumChoices: false }),
    cost: ([d, e, , , w], outs) =>
      MOE_GRAD_OPS.expert_backprop.cost([d!, e!, w!], outs, { sumChoices: false }),
    evaluate: ([d, expert, , , w]) =>
      MOE_GRAD_OPS.expert_backprop.evaluate!([d!, expert!, w!], { sumChoices: false }),
  },

  /** expert_up_grad as a grouped GEMM: inputs (x, expert, order, offsets, w1[, extra], dh). */
  moe_grouped_up_grad: {
    arity: [6, 7],
    infer: ([x, expert, , , ...rest], attrs) =>
      MOE_GRAD_OPS.expert_up_grad.infer([x!, expert!, ...rest], attrs),
    cost: ([x, e, , , ...rest], outs, attrs) =>
      MOE_GRAD_OPS.expert_up_grad.cost([x!, e!, ...rest], outs, attrs),
    evaluate: ([x, expert, , , ...rest], attrs) =>
      MOE_GRAD_OPS.expert_up_grad.evaluate!([x!, expert!, ...rest], attrs),
  },

  /**
   * The down projection's cotangents without recomputing its output z = h·W2[e]ᵀ (+ b2[e]): from
   * u = dy·W2[e] (moe_grouped_backprop), dz = g·dy, dgate = h·u (= dy·z less the bias term,
   * which moe_gate_bias_grad adds) and dh = g·u; zeros for a dropped assignment. Inputs
   * (h, expert, gate, u, dy).
   */
  moe_down_grad: {
    arity: [5, 5],
    infer: ([h, expert, gate, u, dy]) => {
      rank(h!, 3, "expert hidden");
      expect(
        shapeEquals(h!.shape, u!.shape) && shapeEquals(expert!.shape, gate!.shape),
        "moe_down_grad: hidden rows and u, expert ids and gates must have one shape",
      );
      return [dy!, gate!, h!];
    },
    cost: elementwiseCost(4),
    evaluate: ([h, expert, gate, u, dy]) => [...downGrad(h!, expert!, gate!, u!, dy!)],
  },

  /** dgate's bias term: dy[a]·b2[e] per assignment (0 when dropped); inputs (dy, expert, b2). */
  moe_gate_bias_grad: {
    arity: [3, 3],
    infer: ([dy, expert]) => {
      rank(dy!, 3, "expert output gradient");
      return [{ dtype: dy!.dtype, shape: expert!.shape }];
    },
    cost: elementwiseCost(2),
    evaluate: ([dy, expert, b2]) => {
      const d = dy!.shape[2]!;
      const out = tensor(expert!.shape);
      out.data.forEach((_, a) => {
        const e = expert!.data[a]!;
        if (e < 0) return;
        for (let o = 0; o < d; o++) out.data[a]! += dy!.data[a * d + o]! * b2!.data[e * d + o]!;
      });
      return [out];
    },
  },
};

function downGrad(
  h: RefTensor,
  expert: RefTensor,
  gate: RefTensor,
  u: RefTensor,
  dy: RefTensor,
): [RefTensor, RefTensor, RefTensor] {
  const f = h.shape[2]!;
  const d = dy.shape[2]!;
  const [dz, dgate, dh] = [tensor(dy.shape), tensor(gate.shape), tensor(h.shape)];
  for (let a = 0; a < numel(gate.shape as number[]); a++) {
    const e = expert.data[a]!;
    if (e < 0) continue;
    const g = gate.data[a]!;
    let dg = 0;
    for (let i = 0; i < f; i++) {
      dg += h.data[a * f + i]! * u.data[a * f + i]!;
      dh.data[a * f + i] = g * u.data[a * f + i]!;
    }
    for (let o = 0; o < d; o++) dz.data[a * d + o] = g * dy.data[a * d + o]!;
    dgate.data[a] = dg;
  }
  return [dz, dgate, dh];
}
