// Attention: rotary position embedding and causal multi-head attention.
import { divideDim, formatDim, scaleDim, shapeEquals } from "../types.js";
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
    infer: ([q, k, v], { heads, kvHeads = heads }) => {
      for (const [t, what] of [
        [q!, "query"],
        [k!, "key"],
        [v!, "value"],
      ] as const) {
        rank(t, 2, `attention ${what}`);
        float(t, `attention ${what}`);
      }
      expect(
        heads % kvHeads === 0,
        `attention heads (${heads}) must be a multiple of the key/value heads (${kvHeads})`,
      );
      const headDim = divideDim(q!.shape[1]!, heads);
      expect(headDim !== undefined, `attention width must be divisible by ${heads} heads`);
      expect(
        shapeEquals(k!.shape, [q!.shape[0]!, scaleDim(headDim!, kvHeads)]) &&
          shapeEquals(k!.shape.slice(0, 1), v!.shape.slice(0, 1)),
        `attention keys must be ${kvHeads} heads of the query's head width ${formatDim(headDim!)}, one row per query row, and values one row per key`,
      );
      const valueDim = divideDim(v!.shape[1]!, kvHeads);
      expect(
        valueDim !== undefined,
        `attention value width must be divisible by ${kvHeads} key/value heads`,
      );
      return [{ dtype: q!.dtype, shape: [q!.shape[0]!, scaleDim(valueDim!, heads)] }];
    },
    cost: ([q, k, v], [y]) => {
      const [t, d] = q! as [number, number];
      const vd = y![1]!;
      // causal: QK^T and AV over the visible prefix
      const macs = (t * (t + 1) * (d + vd)) / 2;
      return { macs, flops: 2 * macs + (5 * t * (t + 1)) / 2, bytes: bytesOf(q!, k!, v!, y!) };
    },
    evaluate: ([q, k, v], { heads, kvHeads = heads }) => [
      causalAttention(q!, k!, v!, heads, kvHeads),
    ],
    grad: ({ inputs: [q, k, v], outputs: [y], dOutputs: [dy], attrs, emit }) => {
      expect(
        (attrs.kvHeads ?? attrs.heads) === attrs.heads,
        "training attention with fewer key/value heads than query heads is not supported yet",
      );
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

/** Each query head h reads key/value head ⌊h / (heads / kvHeads)⌋ (grouped-query attention). */
function causalAttention(
  q: RefTensor,
  k: RefTensor,
  v: RefTensor,
  heads: number,
  kvHeads: number,
): RefTensor {
  const t = q.shape[0]!;
  const [d, kd, vw] = [q.shape[1]!, k.shape[1]!, v.shape[1]!];
  const headDim = d / heads;
  const valueDim = vw / kvHeads;
  const group = heads / kvHeads;
  const scale = 1 / Math.sqrt(headDim);
  const y = tensor([t, heads * valueDim]);
  const yw = heads * valueDim;
  const scores = new Float64Array(t);
  for (let h = 0; h < heads; h++) {
    const kh = Math.floor(h / group);
    for (let i = 0; i < t; i++) {
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let c = 0; c < headDim; c++)
          s += q.data[i * d + h * headDim + c]! * k.data[j * kd + kh * headDim + c]!;
        scores[j] = s * scale;
        max = Math.max(max, scores[j]!);
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += scores[j] = Math.exp(scores[j]! - max);
      for (let c = 0; c < valueDim; c++) {
        let acc = 0;
        for (let j = 0; j <= i; j++) acc += scores[j]! * v.data[j * vw + kh * valueDim + c]!;
        y.data[i * yw + h * valueDim + c] = acc / sum;
      }
    }
  }
  return y;
}
