// Routing statistics of a run (design.md section 4): kept assignments per head and expert,
// drops, first choices, probability sums, the GShard load-balancing loss and expert activation,
// computed from the counters the router and permutation kernels write. Browser-safe.
import type { PlanRoutingSite } from "../plan/format.js";

export interface RoutingStats {
  readonly scope: string;
  readonly experts: number;
  readonly heads: number;
  readonly topK: number;
  /** Kept (sub-)token assignments per head and expert, after any capacity limit. */
  readonly counts: readonly (readonly number[])[];
  /** Assignments dropped by the capacity limit, per head. */
  readonly dropped: readonly number[];
  /** First choices per expert (before capacity) and router probability sums per expert. */
  readonly top1: readonly number[];
  readonly probSum: readonly number[];
  /** Routed rows S: tokens times heads. */
  readonly tokensRouted: number;
  /** GShard load-balancing loss E · Σ_e f_e · P_e, f_e = top1[e] / S, P_e = probSum[e] / S. */
  readonly auxLoss: number;
  /** Experts that received at least one kept assignment, over all heads and per head. */
  readonly activeExperts: number;
  readonly activeExpertsPerHead: readonly number[];
}

export function routingStats(
  site: PlanRoutingSite,
  rows: number,
  counts: Int32Array,
  top1: Int32Array,
  probSum: Float32Array,
  dropped: Int32Array,
): RoutingStats {
  const { experts, heads } = site;
  const perHead = Array.from({ length: heads }, (_, h) =>
    Array.from(counts.subarray(h * experts, (h + 1) * experts)),
  );
  const total = Array.from({ length: experts }, (_, e) =>
    perHead.reduce((s, row) => s + row[e]!, 0),
  );
  let aux = 0;
  for (let e = 0; e < experts; e++) aux += (top1[e]! / rows) * (probSum[e]! / rows);
  return {
    scope: site.scope,
    experts,
    heads,
    topK: site.topK,
    counts: perHead,
    dropped: Array.from(dropped),
    top1: Array.from(top1),
    probSum: Array.from(probSum),
    tokensRouted: rows,
    auxLoss: experts * aux,
    activeExperts: total.filter((c) => c > 0).length,
    activeExpertsPerHead: perHead.map((row) => row.filter((c) => c > 0).length),
  };
}
