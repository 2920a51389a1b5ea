// Backward ops of causal multi-head attention. attention_stats recomputes each query row's
// log-sum-exp and the row term D = dy·y; attention_grad then needs no stored probabilities.
// Grouped-query attention: query head h reads key/value head ⌊h / (heads / kvHeads)⌋, so a key
// or value head's gradient sums over the query heads of its group. Value heads may be wider or
// narrower than query/key heads (DeepSeek's latent attention).
import { shapeEquals } from "../types.js";
import type { OpAttrs, OpFamily, RefTensor } from "./def.js";
import { bytesOf, expect, rank, tensor } from "./helpers.js";

export const ATTENTION_GRAD_OPS: OpFamily<"attention_stats" | "attention_grad"> = {
  /** Per (row, head): [log Σ_j≤i exp(s_ij), Σ_c dy_ic · y_ic] → f32[T, heads, 2]. */
  attention_stats: {
    arity: [4, 4],
    infer: ([q, k, y, dy], { heads }) => {
      rank(q!, 2, "attention query");
      expect(
        shapeEquals(q!.shape.slice(0, 1), k!.shape.slice(0, 1)) && shapeEquals(y!.shape, dy!.shape),
        "attention_stats: q and k rows, y and dy shapes must match",
      );
      return [{ dtype: q!.dtype, shape: [q!.shape[0]!, heads, 2] }];
    },
    cost: ([q, , y], [s]) => {
      const [t, d] = q! as [number, number];
      const macs = (t * (t + 1) * d) / 2 + t * y![1]!;
      return { macs, flops: 2 * macs, bytes: bytesOf(q!, q!, y!, y!, s!) };
    },
    evaluate: ([q, k, y, dy], attrs) => [
      attentionStats(q!, k!, y!, dy!, geometry(q!, k!, y!, attrs)),
    ],
  },

  /** dq, dk, dv of y = softmax(scale · q kᵀ, causal) v, from the stats above. */
  attention_grad: {
    arity: [5, 5],
    infer: ([q, k, v]) => [q!, k!, v!],
    cost: ([q, , v], [dq]) => {
      const [t, d] = q! as [number, number];
      const macs = t * (t + 1) * (1.5 * d + 0.5 * v![1]!);
      return { macs, flops: 2 * macs, bytes: bytesOf(q!, q!, v!, v!, dq!, dq!, v!) };
    },
    evaluate: ([q, k, v, dy, stats], attrs) =>
      attentionGrad(q!, k!, v!, dy!, stats!, geometry(q!, k!, dy!, attrs)),
  },
};

/** Head widths, the grouping of query heads over key/value heads, and the score scale. */
interface Geometry {
  readonly heads: number;
  readonly group: number;
  readonly qk: number;
  readonly value: number;
  readonly scale: number;
}

function geometry(
  q: RefTensor,
  k: RefTensor,
  y: RefTensor,
  { heads, kvHeads = heads, scale }: OpAttrs["attention_grad"],
): Geometry {
  const qk = q.shape[1]! / heads;
  expect(k.shape[1] === qk * kvHeads, "attention keys must have kvHeads heads of the query width");
  return {
    heads,
    group: heads / kvHeads,
    qk,
    value: y.shape[1]! / heads,
    scale: scale ?? 1 / Math.sqrt(qk),
  };
}

function score(q: RefTensor, k: RefTensor, i: number, j: number, h: number, g: Geometry): number {
  const [d, kd] = [q.shape[1]!, k.shape[1]!];
  const kh = Math.floor(h / g.group);
  let s = 0;
  for (let c = 0; c < g.qk; c++)
    s += q.data[i * d + h * g.qk + c]! * k.data[j * kd + kh * g.qk + c]!;
  return s * g.scale;
}

function attentionStats(
  q: RefTensor,
  k: RefTensor,
  y: RefTensor,
  dy: RefTensor,
  g: Geometry,
): RefTensor {
  const t = q.shape[0]!;
  const yw = y.shape[1]!;
  const stats = tensor([t, g.heads, 2]);
  for (let i = 0; i < t; i++) {
    for (let h = 0; h < g.heads; h++) {
      let max = -Infinity;
      for (let j = 0; j <= i; j++) max = Math.max(max, score(q, k, i, j, h, g));
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += Math.exp(score(q, k, i, j, h, g) - max);
      let delta = 0;
      for (let c = 0; c < g.value; c++)
        delta += dy.data[i * yw + h * g.value + c]! * y.data[i * yw + h * g.value + c]!;
      stats.data[(i * g.heads + h) * 2] = max + Math.log(sum);
      stats.data[(i * g.heads + h) * 2 + 1] = delta;
    }
  }
  return stats;
}

function attentionGrad(
  q: RefTensor,
  k: RefTensor,
  v: RefTensor,
  dy: RefTensor,
  stats: RefTensor,
  g: Geometry,
): RefTensor[] {
  const t = q.shape[0]!;
  const [d, kd, vw, yw] = [q.shape[1]!, k.shape[1]!, v.shape[1]!, dy.shape[1]!];
  const [dq, dk, dv] = [tensor(q.shape), tensor(k.shape), tensor(v.shape)];
  // dS_ij = P_ij (dy_i·v_j − D_i), with P_ij = exp(s_ij − lse_i).
  const dS = (i: number, j: number, h: number) => {
    const kh = Math.floor(h / g.group);
    const p = Math.exp(score(q, k, i, j, h, g) - stats.data[(i * g.heads + h) * 2]!);
    let dp = 0;
    for (let c = 0; c < g.value; c++)
      dp += dy.data[i * yw + h * g.value + c]! * v.data[j * vw + kh * g.value + c]!;
    return { p, ds: p * (dp - stats.data[(i * g.heads + h) * 2 + 1]!) };
  };
  for (let h = 0; h < g.heads; h++) {
    const kh = Math.floor(h / g.group);
    for (let i = 0; i < t; i++) {
      for (let j = 0; j <= i; j++) {
        const { ds } = dS(i, j, h);
        for (let c = 0; c < g.qk; c++)
          dq.data[i * d + h * g.qk + c]! += ds * g.scale * k.data[j * kd + kh * g.qk + c]!;
      }
    }
    // Key and value rows sum over the queries that see them, i ascending.
    for (let j = 0; j < t; j++) {
      for (let i = j; i < t; i++) {
        const { p, ds } = dS(i, j, h);
        for (let c = 0; c < g.qk; c++)
          dk.data[j * kd + kh * g.qk + c]! += ds * g.scale * q.data[i * d + h * g.qk + c]!;
        for (let c = 0; c < g.value; c++)
          dv.data[j * vw + kh * g.value + c]! += p * dy.data[i * yw + h * g.value + c]!;
      }
    }
  }
  return [dq, dk, dv];
}
