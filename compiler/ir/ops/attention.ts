// Attention: rotary position embedding and causal multi-head attention.
import { divideDim, formatDim, scaleDim, shapeEquals } from "../types.js";
import type { OpFamily, RefTensor } from "./def.js";
import type { TensorType } from "../types.js";
import { bytesOf, elementwiseCost, expect, float, last, rank, tensor } from "./helpers.js";

export const ATTENTION_OPS: OpFamily<
  "rope" | "attention" | "state" | "kv_write" | "cached_attention"
> = {
  /** Rotary positions: row t is at position t, or at positions[t] when given (decoding). */
  rope: {
    arity: [1, 2],
    infer: ([x, positions], { heads }) => {
      rank(x!, 2, "rope input");
      if (positions) checkPositions(positions, x!, "rope");
      const headDim = divideDim(last(x!.shape), heads);
      expect(
        headDim !== undefined && typeof headDim === "number" && headDim % 2 === 0,
        `rotary embedding needs an even head width; width ${formatDim(last(x!.shape))} over ${heads} heads`,
      );
      return [x!];
    },
    cost: elementwiseCost(6),
    evaluate: ([x, positions], { heads, base, interleaved, invFreq, attentionFactor }) => [
      applyRope(interleaved ? deinterleave(x!, heads) : x!, heads, base, 1, {
        positions: positions && Array.from(positions.data),
        invFreq,
        attentionFactor,
      }),
    ],
    grad: ({ inputs: [, positions], dOutputs: [dy], attrs, emit }) => [
      emit("rope_grad", [dy!, ...(positions === undefined ? [] : [positions])], attrs)[0],
      undefined,
    ],
  },

  // Typed when added, like a weight; the interpreter starts it at zeros.
  state: { arity: [0, 0], infer: () => [], cost: () => ({ macs: 0, flops: 0, bytes: 0 }) },

  kv_write: {
    arity: [3, 3],
    inPlace: 2,
    infer: ([rows, positions, cache]) => {
      rank(rows!, 2, "new cache rows");
      checkPositions(positions!, rows!, "kv_write");
      expect(
        cache!.shape.length === 2 && cache!.shape[1] === rows!.shape[1],
        `cache rows of width ${formatDim(cache!.shape[1] ?? 0)} cannot hold rows of width ${formatDim(rows!.shape[1]!)}`,
      );
      return [cache!];
    },
    cost: ([rows]) => ({ macs: 0, flops: 0, bytes: 2 * bytesOf(rows!) }),
    evaluate: ([rows, positions, cache]) => {
      const width = rows!.shape[1]!;
      const out = tensor(cache!.shape, cache!.data.slice());
      positions!.data.forEach((p, t) =>
        out.data.set(rows!.data.subarray(t * width, (t + 1) * width), p * width),
      );
      return [out];
    },
  },

  cached_attention: {
    arity: [4, 4],
    infer: ([q, kCache, vCache, positions], { heads, kvHeads }) => {
      rank(q!, 2, "attention query");
      checkPositions(positions!, q!, "cached_attention");
      const headDim = divideDim(q!.shape[1]!, heads);
      expect(
        headDim !== undefined && heads % kvHeads === 0,
        `attention width must be divisible by ${heads} heads, a multiple of ${kvHeads} key/value heads`,
      );
      expect(
        shapeEquals(kCache!.shape.slice(1), [scaleDim(headDim!, kvHeads)]) &&
          kCache!.shape[0] === vCache!.shape[0],
        "the key cache must hold key/value heads of the query's head width, as many rows as the value cache",
      );
      const valueDim = divideDim(vCache!.shape[1]!, kvHeads);
      expect(valueDim !== undefined, "value cache width must divide into key/value heads");
      return [{ dtype: q!.dtype, shape: [q!.shape[0]!, scaleDim(valueDim!, heads)] }];
    },
    cost: ([q, k, v], [y]) => {
      // Each new row attends to about the whole cache (an upper bound: its position + 1 rows).
      const macs = q![0]! * k![0]! * (q![1]! + y![1]!);
      return { macs, flops: 2 * macs, bytes: bytesOf(q!, k!, v!, y!) };
    },
    evaluate: ([q, kCache, vCache, positions], { heads, kvHeads, scale }) => {
      const pos = Array.from(positions!.data);
      return [causalAttention(q!, kCache!, vCache!, heads, kvHeads, (i) => pos[i]!, scale)];
    },
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
    evaluate: ([q, k, v], { heads, kvHeads = heads, scale }) => [
      causalAttention(q!, k!, v!, heads, kvHeads, (i) => i, scale),
    ],
    grad: ({ inputs: [q, k, v], outputs: [y], dOutputs: [dy], attrs, emit }) => {
      const [stats] = emit("attention_stats", [q!, k!, y!, dy!], attrs);
      return emit("attention_grad", [q!, k!, v!, dy!, stats!], attrs);
    },
  },
};

/** Each head's columns reordered: the even ones, then the odd ones. */
export function deinterleave(x: RefTensor, heads: number): RefTensor {
  const width = x.shape[1]!;
  const hd = width / heads;
  return tensor(
    x.shape,
    x.data.map((_, a) => {
      const [row, c] = [Math.floor(a / width), a % width];
      const [h, i] = [Math.floor(c / hd), c % hd];
      const from = i < hd / 2 ? 2 * i : 2 * (i - hd / 2) + 1;
      return x.data[row * width + h * hd + from]!;
    }),
  );
}

/** deinterleave's inverse: each head's first half goes to the even columns, the second to the odd. */
export function interleave(x: RefTensor, heads: number): RefTensor {
  const width = x.shape[1]!;
  const hd = width / heads;
  const y = tensor(x.shape);
  x.data.forEach((value, a) => {
    const [row, c] = [Math.floor(a / width), a % width];
    const [h, i] = [Math.floor(c / hd), c % hd];
    const to = i < hd / 2 ? 2 * i : 2 * (i - hd / 2) + 1;
    y.data[row * width + h * hd + to] = value;
  });
  return y;
}

/** Positions: one i32 per row of `x`. */
function checkPositions(positions: TensorType, x: TensorType, what: string): void {
  expect(
    positions.dtype === "i32" &&
      positions.shape.length === 1 &&
      shapeEquals(positions.shape, x.shape.slice(0, 1)),
    `${what}: positions must be i32, one per row`,
  );
}

/**
 * Rotates each head's pairs by pos·θ_i, or by −pos·θ_i (the inverse) for sign −1; row t is at
 * position t unless `positions` says otherwise.
 */
export function applyRope(
  x: RefTensor,
  heads: number,
  base: number,
  sign = 1,
  scaled: {
    readonly positions?: readonly number[];
    readonly invFreq?: readonly number[];
    readonly attentionFactor?: number;
  } = {},
): RefTensor {
  const { positions, invFreq, attentionFactor = 1 } = scaled;
  const [t, d] = x.shape as [number, number];
  const headDim = d / heads;
  const half = headDim / 2;
  const y = tensor(x.shape);
  for (let pos = 0; pos < t; pos++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const frequency = invFreq?.[i] ?? Math.pow(base, (-2 * i) / headDim);
        const angle = sign * (positions?.[pos] ?? pos) * frequency;
        const [c, s] = [Math.cos(angle) * attentionFactor, Math.sin(angle) * attentionFactor];
        const a = pos * d + h * headDim + i;
        const x1 = x.data[a]!;
        const x2 = x.data[a + half]!;
        y.data[a] = x1 * c - x2 * s;
        y.data[a + half] = x2 * c + x1 * s;
      }
    }
  }
  return y;
}

/**
 * Each query head h reads key/value head ⌊h / (heads / kvHeads)⌋ (grouped-query attention);
 * query row i sees key rows 0..last(i) (causal: i itself).
 */
function causalAttention(
  q: RefTensor,
  k: RefTensor,
  v: RefTensor,
  heads: number,
  kvHeads: number,
  last: (i: number) => number = (i) => i,
  scoreScale?: number,
): RefTensor {
  const t = q.shape[0]!;
  const [d, kd, vw] = [q.shape[1]!, k.shape[1]!, v.shape[1]!];
  const headDim = d / heads;
  const valueDim = vw / kvHeads;
  const group = heads / kvHeads;
  const scale = scoreScale ?? 1 / Math.sqrt(headDim);
  const y = tensor([t, heads * valueDim]);
  const yw = heads * valueDim;
  const scores = new Float64Array(k.shape[0]!);
  for (let h = 0; h < heads; h++) {
    const kh = Math.floor(h / group);
    for (let i = 0; i < t; i++) {
      let max = -Infinity;
      for (let j = 0; j <= last(i); j++) {
        let s = 0;
        for (let c = 0; c < headDim; c++)
          s += q.data[i * d + h * headDim + c]! * k.data[j * kd + kh * headDim + c]!;
        scores[j] = s * scale;
        max = Math.max(max, scores[j]!);
      }
      let sum = 0;
      for (let j = 0; j <= last(i); j++) sum += scores[j] = Math.exp(scores[j]! - max);
      for (let c = 0; c < valueDim; c++) {
        let acc = 0;
        for (let j = 0; j <= last(i); j++) acc += scores[j]! * v.data[j * vw + kh * valueDim + c]!;
        y.data[i * yw + h * valueDim + c] = acc / sum;
      }
    }
  }
  return y;
}
