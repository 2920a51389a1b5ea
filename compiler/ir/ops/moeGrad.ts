// Backward ops of routing and the expert bank. A dropped assignment (expert id -1) contributes
// nothing to any gradient. Per-expert weight gradients sum their segment's assignments in a fixed
// order (rows ascending, then choices), so two runs give bitwise-identical results.
import { shapeEquals } from "../types.js";
import type { Activation, Gating, OpAttrs, OpFamily, RefTensor } from "./def.js";
import {
  bytesOf,
  elementwiseCost,
  expect,
  last,
  matmulCost,
  numel,
  rank,
  tensor,
} from "./helpers.js";
import { ACTIVATION_DERIVATIVES } from "./denseGrad.js";
import { ACTIVATION_FUNCTIONS } from "./math.js";
import { GROUPED_RENORM_EPS } from "./routing.js";

export const MOE_GRAD_OPS: OpFamily<
  | "route_grad"
  | "route_grouped_grad"
  | "capacity_grad"
  | "expert_up_grad"
  | "expert_backprop"
  | "expert_weight_grad"
  | "expert_bias_grad"
  | "expert_down_grad"
  | "combine_grad"
> = {
  /**
   * dLogits of the router from the gates' and the probabilities' cotangents:
   * inputs (expert, gate, probs, dgate[, dprobs]).
   */
  route_grad: {
    arity: [4, 5],
    infer: ([expert, gate, probs, dgate]) => {
      expect(
        shapeEquals(expert!.shape, gate!.shape) && shapeEquals(gate!.shape, dgate!.shape),
        "route_grad: expert ids, gates and their gradient must have one shape",
      );
      return [{ dtype: probs!.dtype, shape: probs!.shape }];
    },
    cost: elementwiseCost(6),
    evaluate: ([expert, gate, probs, dgate, dprobs], { gating }) => [
      routeGrad(expert!, gate!, probs!, dgate!, dprobs, gating),
    ],
  },

  /**
   * dLogits of DeepSeek-V3's router: inputs (logits, expert, dgate[, probs, dprobs]); the gates
   * g_j = scale · s_j / (Σ_i s_i + 1e-20) (or scale · s_j) of s = sigmoid(logits), then the
   * probabilities' softmax when they carry a cotangent.
   */
  route_grouped_grad: {
    arity: [3, 5],
    infer: (ins) => {
      const [logits, expert, dgate] = ins;
      expect(
        ins.length !== 4 && shapeEquals(expert!.shape, dgate!.shape),
        "route_grouped_grad: expert ids and the gates' gradient must have one shape, probs come with their gradient",
      );
      return [{ dtype: dgate!.dtype, shape: logits!.shape }];
    },
    cost: elementwiseCost(8),
    evaluate: ([logits, expert, dgate, probs, dprobs], attrs) => [
      routeGroupedGrad(logits!, expert!, dgate!, probs, dprobs, attrs),
    ],
  },

  /** The gate gradient passes where the assignment was kept, and is 0 where it was dropped. */
  capacity_grad: {
    arity: [2, 2],
    infer: ([kept, dgate]) => {
      expect(shapeEquals(kept!.shape, dgate!.shape), "capacity_grad: shapes must match");
      return [dgate!];
    },
    cost: elementwiseCost(1),
    evaluate: ([kept, dgate]) => [
      tensor(
        dgate!.shape,
        dgate!.data.map((g, a) => (kept!.data[a]! < 0 ? 0 : g)),
      ),
    ],
  },

  /**
   * Cotangents of the expert up-projection's pre-activations: inputs (x, expert, w1[, extra], dh);
   * dA [N, k, f] (and dU [N, k, f] of the up projection for gated experts).
   */
  expert_up_grad: {
    arity: [4, 5],
    infer: (ins, { gated }) => {
      const dh = ins[ins.length - 1]!;
      rank(dh, 3, "expert hidden gradient");
      return gated ? [dh, dh] : [dh];
    },
    cost: ([x, e, w1], outs) => {
      const macs = numel(e!) * w1![1]! * w1![2]! * outs.length;
      return { macs, flops: 2 * macs, bytes: bytesOf(x!, ...outs) + (4 * macs) / numel(e!) };
    },
    evaluate: (ins, attrs) => expertUpGrad(ins, attrs.act, attrs.gated, attrs.bias),
  },

  /**
   * dIn of an expert linear: d [N, k, out] through each assignment's W [E, out, in]; summed over
   * the k choices (→ [N, in]) when the input was shared by them, else kept per choice.
   */
  expert_backprop: {
    arity: [3, 3],
    infer: ([dout, , w], { sumChoices }) => {
      rank(dout!, 3, "expert output gradient");
      rank(w!, 3, "stacked expert weight");
      const [n, k] = dout!.shape;
      return [
        { dtype: dout!.dtype, shape: sumChoices ? [n!, w!.shape[2]!] : [n!, k!, w!.shape[2]!] },
      ];
    },
    cost: ([d, e, w], [dx]) => matmulCost(numel(e!) * w![1]! * w![2]!, [d!, dx!]),
    evaluate: ([dout, expert, w], { sumChoices }) => [
      expertBackprop(dout!, expert!, w!, sumChoices),
    ],
  },

  /** dW [E, out, in] = Σ over the assignments a of expert e of d[a] ⊗ x[a] (rows, then choices). */
  expert_weight_grad: {
    arity: [3, 3],
    infer: ([x, , dout], { experts }) => [
      { dtype: dout!.dtype, shape: [experts, last(dout!.shape), last(x!.shape)] },
    ],
    cost: ([x, e, d], [dw]) => matmulCost(numel(e!) * dw![1]! * dw![2]!, [x!, d!]),
    evaluate: ([x, expert, dout], { experts }) => [expertWeightGrad(x!, expert!, dout!, experts)],
  },

  /** dB [E, out] = Σ over the assignments of expert e of d[a]. */
  expert_bias_grad: {
    arity: [2, 2],
    infer: ([, dout], { experts }) => [{ dtype: dout!.dtype, shape: [experts, last(dout!.shape)] }],
    cost: elementwiseCost(1),
    evaluate: ([expert, dout], { experts }) => {
      const [n, k, out] = dout!.shape as [number, number, number];
      const db = tensor([experts, out]);
      for (let a = 0; a < n * k; a++) {
        const e = expert!.data[a]!;
        if (e < 0) continue;
        for (let o = 0; o < out; o++) db.data[e * out + o]! += dout!.data[a * out + o]!;
      }
      return [db];
    },
  },

  /**
   * The down projection's cotangents from dy [N, k, d]: dz = g · dy (the pre-gate output's) and
   * dgate = dy · z, with z = h W2ᵀ + b2; inputs (h, expert, gate, w2[, b2], dy).
   */
  expert_down_grad: {
    arity: [5, 6],
    infer: (ins) => {
      const dy = ins[ins.length - 1]!;
      return [dy, { dtype: dy.dtype, shape: ins[2]!.shape }];
    },
    cost: ([h, e, , w2], [dz]) => matmulCost(numel(e!) * w2![1]! * w2![2]!, [h!, dz!]),
    evaluate: (ins) => expertDownGrad(ins),
  },

  /** Each of a row's k slots receives the row's gradient. */
  combine_grad: {
    arity: [1, 1],
    infer: ([dy], { topK }) => {
      rank(dy!, 2, "combine gradient");
      return [{ dtype: dy!.dtype, shape: [dy!.shape[0]!, topK, dy!.shape[1]!] }];
    },
    cost: (ins, outs) => elementwiseCost(0)(ins, outs),
    evaluate: ([dy], { topK }) => {
      const [n, d] = dy!.shape as [number, number];
      const slots = tensor([n, topK, d]);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < topK; j++)
          slots.data.set(dy!.data.subarray(r * d, (r + 1) * d), (r * topK + j) * d);
      return [slots];
    },
  },
};

/**
 * dp_e = dprobs_e (+ dgate_j where e is choice j, for "softmax" gates = p); for renormalised
 * gates g_j = softmax over the kept logits, so dl_{e_j} += g_j (dgate_j − Σ_i g_i dgate_i);
 * then dl += p ⊙ (dp − Σ p dp).
 */
function routeGrad(
  expert: RefTensor,
  gate: RefTensor,
  probs: RefTensor,
  dgate: RefTensor,
  dprobs: RefTensor | undefined,
  gating: Gating,
): RefTensor {
  const [n, experts] = probs.shape as [number, number];
  const k = expert.shape[1]!;
  const dl = tensor(probs.shape);
  const dp = new Float64Array(experts);
  for (let r = 0; r < n; r++) {
    for (let e = 0; e < experts; e++) dp[e] = dprobs ? dprobs.data[r * experts + e]! : 0;
    if (gating === "softmax") {
      for (let j = 0; j < k; j++) dp[expert.data[r * k + j]!]! += dgate.data[r * k + j]!;
    } else if (gating === "sigmoid") {
      // gate = sigmoid(logit): d logit = dgate · gate · (1 - gate), independent of the softmax.
      for (let j = 0; j < k; j++) {
        const g = gate.data[r * k + j]!;
        dl.data[r * experts + expert.data[r * k + j]!]! += dgate.data[r * k + j]! * g * (1 - g);
      }
    } else {
      let gd = 0;
      for (let j = 0; j < k; j++) gd += gate.data[r * k + j]! * dgate.data[r * k + j]!;
      for (let j = 0; j < k; j++) {
        const g = gate.data[r * k + j]!;
        dl.data[r * experts + expert.data[r * k + j]!]! += g * (dgate.data[r * k + j]! - gd);
      }
    }
    let pdp = 0;
    for (let e = 0; e < experts; e++) pdp += probs.data[r * experts + e]! * dp[e]!;
    for (let e = 0; e < experts; e++)
      dl.data[r * experts + e]! += probs.data[r * experts + e]! * (dp[e]! - pdp);
  }
  return dl;
}

/**
 * With D = Σ_i s_i + ε: ds_j = (scale · dg_j − Σ_i dg_i g_i) / D when renormalised, else
 * scale · dg_j; dl_{e_j} = ds_j · s_j (1 − s_j); then dl += p ⊙ (dp − Σ p dp).
 */
function routeGroupedGrad(
  logits: RefTensor,
  expert: RefTensor,
  dgate: RefTensor,
  probs: RefTensor | undefined,
  dprobs: RefTensor | undefined,
  { topK: k, renorm, scale }: OpAttrs["route_grouped_grad"],
): RefTensor {
  const [n, experts] = logits.shape as [number, number];
  const dl = tensor(logits.shape);
  for (let r = 0; r < n; r++) {
    const chosen = Array.from({ length: k }, (_, j) => expert.data[r * k + j]!);
    const s = chosen.map((e) => 1 / (1 + Math.exp(-logits.data[r * experts + e]!)));
    const dg = Array.from({ length: k }, (_, j) => dgate.data[r * k + j]!);
    const d = renorm ? s.reduce((a, b) => a + b, 0) + GROUPED_RENORM_EPS : 1;
    const gd = renorm ? dg.reduce((acc, g, j) => acc + (g * scale * s[j]!) / d, 0) : 0;
    chosen.forEach((e, j) => {
      const ds = (scale * dg[j]! - gd) / d;
      dl.data[r * experts + e]! += ds * s[j]! * (1 - s[j]!);
    });
    if (!probs || !dprobs) continue;
    let pdp = 0;
    for (let e = 0; e < experts; e++)
      pdp += probs.data[r * experts + e]! * dprobs.data[r * experts + e]!;
    for (let e = 0; e < experts; e++)
      dl.data[r * experts + e]! +=
        probs.data[r * experts + e]! * (dprobs.data[r * experts + e]! - pdp);
  }
  return dl;
}

function expertUpGrad(
  ins: readonly RefTensor[],
  act: Activation,
  gated: boolean,
  bias: boolean,
): RefTensor[] {
  const [x, expert, w1] = ins as [RefTensor, RefTensor, RefTensor];
  const extra = ins.length === 5 ? ins[3] : undefined;
  const dh = ins[ins.length - 1]!;
  const [n, k] = expert.shape as [number, number];
  const [, f, d] = w1.shape as [number, number, number];
  const fn = ACTIVATION_FUNCTIONS[act];
  const fnPrime = ACTIVATION_DERIVATIVES[act];
  const dA = tensor(dh.shape);
  const dU = tensor(dh.shape);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      const e = expert.data[r * k + j]!;
      if (e < 0) continue;
      for (let o = 0; o < f; o++) {
        let a = bias ? extra!.data[e * f + o]! : 0;
        let u = 0;
        for (let i = 0; i < d; i++) {
          a += x.data[r * d + i]! * w1.data[(e * f + o) * d + i]!;
          if (gated) u += x.data[r * d + i]! * extra!.data[(e * f + o) * d + i]!;
        }
        const g = dh.data[(r * k + j) * f + o]!;
        dA.data[(r * k + j) * f + o] = fnPrime(a) * (gated ? u : 1) * g;
        if (gated) dU.data[(r * k + j) * f + o] = fn(a) * g;
      }
    }
  }
  return gated ? [dA, dU] : [dA];
}

function expertBackprop(
  dout: RefTensor,
  expert: RefTensor,
  w: RefTensor,
  sumChoices: boolean,
): RefTensor {
  const [n, k, out] = dout.shape as [number, number, number];
  const inn = w.shape[2]!;
  const dx = tensor(sumChoices ? [n, inn] : [n, k, inn]);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      const e = expert.data[r * k + j]!;
      if (e < 0) continue;
      const row = sumChoices ? r : r * k + j;
      for (let i = 0; i < inn; i++) {
        let acc = 0;
        for (let o = 0; o < out; o++)
          acc += dout.data[(r * k + j) * out + o]! * w.data[(e * out + o) * inn + i]!;
        dx.data[row * inn + i]! += acc;
      }
    }
  }
  return dx;
}

function expertWeightGrad(
  x: RefTensor,
  expert: RefTensor,
  dout: RefTensor,
  experts: number,
): RefTensor {
  const [n, k, out] = dout.shape as [number, number, number];
  const inn = last(x.shape);
  const perChoice = x.shape.length === 3;
  const dw = tensor([experts, out, inn]);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      const e = expert.data[r * k + j]!;
      if (e < 0) continue;
      const xr = (perChoice ? r * k + j : r) * inn;
      for (let o = 0; o < out; o++) {
        const g = dout.data[(r * k + j) * out + o]!;
        for (let i = 0; i < inn; i++) dw.data[(e * out + o) * inn + i]! += g * x.data[xr + i]!;
      }
    }
  }
  return dw;
}

function expertDownGrad(ins: readonly RefTensor[]): RefTensor[] {
  const [h, expert, gate, w2] = ins as [RefTensor, RefTensor, RefTensor, RefTensor];
  const b2 = ins.length === 6 ? ins[4] : undefined;
  const dy = ins[ins.length - 1]!;
  const [n, k, f] = h.shape as [number, number, number];
  const d = w2.shape[1]!;
  const dz = tensor(dy.shape);
  const dgate = tensor(gate.shape);
  for (let a = 0; a < n * k; a++) {
    const e = expert.data[a]!;
    if (e < 0) continue;
    const g = gate.data[a]!;
    let dg = 0;
    for (let o = 0; o < d; o++) {
      let z = b2 ? b2.data[e * d + o]! : 0;
      for (let i = 0; i < f; i++) z += h.data[a * f + i]! * w2.data[(e * d + o) * f + i]!;
      dg += dy.data[a * d + o]! * z;
      dz.data[a * d + o] = g * dy.data[a * d + o]!;
    }
    dgate.data[a] = dg;
  }
  return [dz, dgate];
}
