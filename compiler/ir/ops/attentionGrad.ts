// Backward ops of causal multi-head attention. attention_stats recomputes each query row's
// log-sum-exp and the row term D = dy·y; attention_grad then needs no stored probabilities.
import { shapeEquals } from "../types.js";
import type { OpFamily, RefTensor } from "./def.js";
import { bytesOf, expect, rank, tensor } from "./helpers.js";

export const ATTENTION_GRAD_OPS: OpFamily<"attention_stats" | "attention_grad"> = {
  /** Per (row, head): [log Σ_j≤i exp(s_ij), Σ_c dy_ic · y_ic] → f32[T, heads, 2]. */
  attention_stats: {
    arity: [4, 4],
    infer: ([q, k, y, dy], { heads }) => {
      rank(q!, 2, "attention query");
      expect(
        shapeEquals(q!.shape, k!.shape) && shapeEquals(y!.shape, dy!.shape),
        "attention_stats: q, k and y, dy shapes must match",
      );
      return [{ dtype: q!.dtype, shape: [q!.shape[0]!, heads, 2] }];
    },
    cost: ([q], [s]) => {
      const [t, d] = q! as [number, number];
      const macs = (t * (t + 1) * d) / 2 + t * d;
      return { macs, flops: 2 * macs, bytes: bytesOf(q!, q!, q!, q!, s!) };
    },
    evaluate: ([q, k, y, dy], { heads }) => [attentionStats(q!, k!, y!, dy!, heads)],
  },

  /** dq, dk, dv of y = softmax(q kᵀ / √hd, causal) v, from the stats above. */
  attention_grad: {
    arity: [5, 5],
    infer: ([q]) => [q!, q!, q!],
    cost: ([q], [dq]) => {
      const [t, d] = q! as [number, number];
      const macs = 2 * t * (t + 1) * d;
      return { macs, flops: 2 * macs, bytes: bytesOf(q!, q!, q!, q!, dq!, dq!, dq!) };
    },
    evaluate: ([q, k, v, dy, stats], { heads }) => attentionGrad(q!, k!, v!, dy!, stats!, heads),
  },
};

function score(q: RefTensor, k: RefTensor, i: number, j: number, h: number, hd: number): number {
  const d = q.shape[1]!;
  let s = 0;
  for (let c = 0; c < hd; c++) s += q.data[i * d + h * hd + c]! * k.data[j * d + h * hd + c]!;
  return s / Math.sqrt(hd);
}

function attentionStats(
  q: RefTensor,
  k: RefTensor,
  y: RefTensor,
  dy: RefTensor,
  heads: number,
): RefTensor {
  const [t, d] = q.shape as [number, number];
  const hd = d / heads;
  const stats = tensor([t, heads, 2]);
  for (let i = 0; i < t; i++) {
    for (let h = 0; h < heads; h++) {
      let max = -Infinity;
      for (let j = 0; j <= i; j++) max = Math.max(max, score(q, k, i, j, h, hd));
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += Math.exp(score(q, k, i, j, h, hd) - max);
      let delta = 0;
      for (let c = 0; c < hd; c++)
        delta += dy.data[i * d + h * hd + c]! * y.data[i * d + h * hd + c]!;
      stats.data[(i * heads + h) * 2] = max + Math.log(sum);
      stats.data[(i * heads + h) * 2 + 1] = delta;
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
  heads: number,
): RefTensor[] {
  const [t, d] = q.shape as [number, number];
  const hd = d / heads;
  const scale = 1 / Math.sqrt(hd);
  const [dq, dk, dv] = [tensor(q.shape), tensor(q.shape), tensor(q.shape)];
  // dS_ij = P_ij (dy_i·v_j − D_i), with P_ij = exp(s_ij − lse_i).
  const dS = (i: number, j: number, h: number) => {
    const p = Math.exp(score(q, k, i, j, h, hd) - stats.data[(i * heads + h) * 2]!);
    let dp = 0;
    for (let c = 0; c < hd; c++) dp += dy.data[i * d + h * hd + c]! * v.data[j * d + h * hd + c]!;
    return { p, ds: p * (dp - stats.data[(i * heads + h) * 2 + 1]!) };
  };
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < t; i++) {
      for (let j = 0; j <= i; j++) {
        const { ds } = dS(i, j, h);
        for (let c = 0; c < hd; c++)
          dq.data[i * d + h * hd + c]! += ds * scale * k.data[j * d + h * hd + c]!;
      }
    }
    // Key and value rows sum over the queries that see them, i ascending.
    for (let j = 0; j < t; j++) {
      for (let i = j; i < t; i++) {
        const { p, ds } = dS(i, j, h);
        for (let c = 0; c < hd; c++) {
          dk.data[j * d + h * hd + c]! += ds * scale * q.data[i * d + h * hd + c]!;
          dv.data[j * d + h * hd + c]! += p * dy.data[i * d + h * hd + c]!;
        }
      }
    }
  }
  return [dq, dk, dv];
}
