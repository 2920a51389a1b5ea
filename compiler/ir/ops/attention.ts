// Attention: rotary position embedding and causal multi-head attention.
import { divideDim, formatDim, shapeEquals } from "../types.js";
import type { OpFamily, RefTensor } from "./def.js";
import { bytesOf, elementwiseCost, expect, float, last, rank, tensor } from "./helpers.js";

export const ATTENTION_OPS: OpFamily<"rope" | "attention"> = {
  rope: {
    arity: [1, 1],
    infer: ([x], { heads }) => {
      rank(x!, 2, "rope input");
      const headDim = divideDim(last(x!.shape), heads);
      expect(
        headDim !== undefined && typeof headDim === "number" && headDim % 2 === 0,
        `rotary embedding needs an even head width; width ${formatDim(last(x!.shape))} over ${heads} heads`,
      );
      return [x!];
    },
    cost: elementwiseCost(6),
    evaluate: ([x], { heads, base }) => [applyRope(x!, heads, base)],
    grad: ({ dOutputs: [dy], attrs, emit }) => [emit("rope_grad", [dy!], attrs)[0]],
  },

  attention: {
    arity: [3, 3],
    infer: ([q, k, v], { heads }) => {
      for (const [t, what] of [
        [q!, "query"],
        [k!, "key"],
        [v!, "value"],
      ] as const) {
        rank(t, 2, `attention ${what}`);
        float(t, `attention ${what}`);
      }
      expect(
        shapeEquals(q!.shape, k!.shape) && shapeEquals(q!.shape, v!.shape),
        "attention q, k, v shapes must match",
      );
      expect(
        divideDim(q!.shape[1]!, heads) !== undefined,
        `attention width must be divisible by ${heads} heads`,
      );
      return [q!];
    },
    cost: ([q], [y]) => {
      const [t, d] = q! as [number, number];
      const macs = t * (t + 1) * d; // causal: QK^T and AV over the visible prefix
      return { macs, flops: 2 * macs + (5 * t * (t + 1)) / 2, bytes: bytesOf(q!, q!, q!, y!) };
    },
    evaluate: ([q, k, v], { heads }) => [causalAttention(q!, k!, v!, heads)],
    grad: ({ inputs: [q, k, v], outputs: [y], dOutputs: [dy], attrs, emit }) => {
      const [stats] = emit("attention_stats", [q!, k!, y!, dy!], attrs);
      return emit("attention_grad", [q!, k!, v!, dy!, stats!], attrs);
    },
  },
};

/** Rotates each head's pairs by pos·θ_i, or by −pos·θ_i (the inverse) for sign −1. */
export function applyRope(x: RefTensor, heads: number, base: number, sign = 1): RefTensor {
  const [t, d] = x.shape as [number, number];
  const headDim = d / heads;
  const half = headDim / 2;
  const y = tensor(x.shape);
  for (let pos = 0; pos < t; pos++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const angle = sign * pos * Math.pow(base, (-2 * i) / headDim);
        const a = pos * d + h * headDim + i;
        const x1 = x.data[a]!;
        const x2 = x.data[a + half]!;
        y.data[a] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
        y.data[a + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
      }
    }
  }
  return y;
}

function causalAttention(q: RefTensor, k: RefTensor, v: RefTensor, heads: number): RefTensor {
  const [t, d] = q.shape as [number, number];
  const headDim = d / heads;
  const scale = 1 / Math.sqrt(headDim);
  const y = tensor(q.shape);
  const scores = new Float64Array(t);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < t; i++) {
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let c = 0; c < headDim; c++)
          s += q.data[i * d + h * headDim + c]! * k.data[j * d + h * headDim + c]!;
        scores[j] = s * scale;
        max = Math.max(max, scores[j]!);
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += scores[j] = Math.exp(scores[j]! - max);
      for (let c = 0; c < headDim; c++) {
        let acc = 0;
        for (let j = 0; j <= i; j++) acc += scores[j]! * v.data[j * d + h * headDim + c]!;
        y.data[i * d + h * headDim + c] = acc / sum;
      }
    }
  }
  return y;
}
