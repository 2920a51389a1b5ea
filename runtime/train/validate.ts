// Validation of a model under training or of a checkpoint: the mean cross-entropy of held-out
// sequences, its perplexity, and expert activation per routing site and head, summed from the
// routing statistics of each run. Browser-safe.
import type { Sequence } from "./data.js";
import type { RoutingStats } from "../statistics.js";

/** What validation runs: a Trainer, or a bare step session (see evaluateSequence). */
export interface Evaluator {
  evaluate(sequence: Sequence): Promise<{ ceLoss: number; routing: readonly RoutingStats[] }>;
}

export interface SiteLoad {
  readonly scope: string;
  readonly experts: number;
  readonly heads: number;
  /** Kept assignments per head and expert, summed over the sequences. */
  readonly counts: readonly (readonly number[])[];
  /** Experts with at least one kept assignment, over all heads and per head. */
  readonly active: number;
  readonly activePerHead: readonly number[];
}

export interface Validation {
  /** Mean cross-entropy in nats per byte. */
  readonly ce: number;
  readonly perplexity: number;
  readonly sequences: number;
  readonly sites: readonly SiteLoad[];
}

export async function validate(
  trainer: Evaluator,
  sequences: readonly Sequence[],
): Promise<Validation> {
  let ce = 0;
  const sums = new Map<string, { experts: number; heads: number; counts: number[][] }>();
  for (const s of sequences) {
    const r = await trainer.evaluate(s);
    ce += r.ceLoss / sequences.length;
    for (const site of r.routing) {
      const sum = sums.get(site.scope) ?? {
        experts: site.experts,
        heads: site.heads,
        counts: site.counts.map((h) => h.map(() => 0)),
      };
      site.counts.forEach((h, i) => h.forEach((c, e) => (sum.counts[i]![e]! += c)));
      sums.set(site.scope, sum);
    }
  }
  const sites = [...sums].map(([scope, s]) => {
    const activePerHead = s.counts.map((h) => h.filter((c) => c > 0).length);
    const active = s.counts[0]!.filter((_, e) => s.counts.some((h) => h[e]! > 0)).length;
    return { scope, ...s, active, activePerHead };
  });
  return { ce, perplexity: Math.exp(ce), sequences: sequences.length, sites };
}

/** One line per routing site: `scope: experts a/E active (heads a/E b/E); load share per expert`. */
export function describeActivation(sites: readonly SiteLoad[]): string[] {
  return sites.map((s) => {
    const total = s.counts.flat().reduce((a, c) => a + c, 0) || 1;
    const share = s.counts[0]!.map((_, e) => s.counts.reduce((a, h) => a + h[e]!, 0) / total);
    const heads =
      s.heads > 1 ? ` (per head ${s.activePerHead.map((a) => `${a}/${s.experts}`).join(" ")})` : "";
    const shares = share.map((x) => `${(100 * x).toFixed(1)}%`).join(" ");
    return `${s.scope}: experts ${s.active}/${s.experts} active${heads}; assignments per expert ${shares}`;
  });
}
