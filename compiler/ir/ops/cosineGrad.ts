// The exact gradient of X-MoE's cosine router logits (ops/routing.ts, cosine_logits):
// L[i, e] = (u_i · w_e) / (n(u_i) · n(w_e) · t), n(v) = max(|v|, ε), t = max(τ, τ_min). With G the
// logits' cotangent and S the row/column sums of G ⊙ L:
//   du_i = Σ_e G[i,e] w_e / (n(u_i) n(w_e) t) − [|u_i| > ε] u_i / |u_i|² · Σ_e G[i,e] L[i,e]
//   dw_e = Σ_i G[i,e] u_i / (n(u_i) n(w_e) t) − [|w_e| > ε] w_e / |w_e|² · Σ_i G[i,e] L[i,e]
//   dτ   = −[τ > τ_min] Σ G ⊙ L / τ
// A clamped norm or temperature is a constant: its derivative is 0 (the max's other branch).
import { formatType, shapeEquals } from "../types.js";
import type { OpFamily, RefTensor } from "./def.js";
import { bytesOf, expect, numel, tensor } from "./helpers.js";
import { COSINE_EPS, MIN_TEMPERATURE } from "./routing.js";

export const COSINE_GRAD_OPS: OpFamily<"cosine_logits_grad"> = {
  /** Inputs (h, emb, tau, logits, dlogits); outputs (dh, demb, dtau). */
  cosine_logits_grad: {
    arity: [5, 5],
    infer: ([h, emb, tau, logits, dlogits]) => {
      expect(
        shapeEquals(logits!.shape, dlogits!.shape),
        `cosine_logits_grad: the logits' gradient must have their shape, got ${formatType(dlogits!)}`,
      );
      return [h!, emb!, tau!];
    },
    cost: ([h, emb], outs) => {
      const macs = 2 * numel(h!) * emb![0]!;
      return { macs, flops: 2 * macs, bytes: bytesOf(h!, emb!, h!, emb!, ...outs) };
    },
    evaluate: ([h, emb, tau, logits, dlogits]) =>
      cosineLogitsGrad(h!, emb!, tau!.data[0]!, logits!, dlogits!),
  },
};

function cosineLogitsGrad(
  h: RefTensor,
  emb: RefTensor,
  tau: number,
  logits: RefTensor,
  g: RefTensor,
): RefTensor[] {
  const [n, r] = h.shape as [number, number];
  const experts = emb.shape[0]!;
  const sq = (v: Float64Array) => v.reduce((s, x) => s + x * x, 0);
  const hRows = Array.from({ length: n }, (_, i) => h.data.subarray(i * r, (i + 1) * r));
  const eRows = Array.from({ length: experts }, (_, e) => emb.data.subarray(e * r, (e + 1) * r));
  const hSq = hRows.map(sq);
  const eSq = eRows.map(sq);
  const hNorm = hSq.map((s) => Math.max(Math.sqrt(s), COSINE_EPS));
  const eNorm = eSq.map((s) => Math.max(Math.sqrt(s), COSINE_EPS));
  const t = Math.max(tau, MIN_TEMPERATURE);
  const [dh, demb, dtau] = [tensor(h.shape), tensor(emb.shape), tensor([1])];
  const rowGL = new Float64Array(n);
  const colGL = new Float64Array(experts);
  for (let i = 0; i < n; i++) {
    for (let e = 0; e < experts; e++) {
      const a = i * experts + e;
      const gl = g.data[a]! * logits.data[a]!;
      rowGL[i] += gl;
      colGL[e] += gl;
      const c = g.data[a]! / (hNorm[i]! * eNorm[e]! * t);
      for (let k = 0; k < r; k++) {
        dh.data[i * r + k] += c * eRows[e]![k]!;
        demb.data[e * r + k] += c * hRows[i]![k]!;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    if (Math.sqrt(hSq[i]!) <= COSINE_EPS) continue;
    for (let k = 0; k < r; k++) dh.data[i * r + k] -= (hRows[i]![k]! / hSq[i]!) * rowGL[i]!;
  }
  for (let e = 0; e < experts; e++) {
    if (Math.sqrt(eSq[e]!) <= COSINE_EPS) continue;
    for (let k = 0; k < r; k++) demb.data[e * r + k] -= (eRows[e]![k]! / eSq[e]!) * colGL[e]!;
  }
  dtau.data[0] = tau > MIN_TEMPERATURE ? -rowGL.reduce((s, x) => s + x, 0) / tau : 0;
  return [dh, demb, dtau];
}
