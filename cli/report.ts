// What run and demo print: an output summary, the routing statistics as a table, and the
// documented layout of the `--stats` JSON (README, "Routing statistics").
import type { MoecDevice } from "../runtime/device.js";
import type { RoutingStats, TensorData } from "../runtime/session.js";

/** One line per output: shape, mean, spread and the first values. */
export function summarise(name: string, t: TensorData): string {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of t.data) {
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const n = t.data.length;
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, sq / n - mean * mean));
  const head = Array.from(t.data.subarray(0, 4), (v) => v.toPrecision(5)).join(", ");
  return `${name}: [${t.shape.join(", ")}]  mean ${mean.toPrecision(4)}  std ${std.toPrecision(4)}  min ${min.toPrecision(4)}  max ${max.toPrecision(4)}  first [${head}, ...]`;
}

const COUNTED =
  "kept (sub-)token assignments per expert over this batch, after any capacity limit; " +
  "an expert is active if it received at least one; per head = sub-token position j of each token";

/** A routing site as a readable table: load per expert (per head for MH-MoE) and summary. */
export function formatRouting(s: RoutingStats): string {
  const total = s.counts.flat().reduce((a, b) => a + b, 0);
  const perExpert = Array.from({ length: s.experts }, (_, e) =>
    s.counts.reduce((acc, row) => acc + row[e]!, 0),
  );
  const mean = total / s.experts;
  const cv =
    mean > 0
      ? Math.sqrt(perExpert.reduce((acc, c) => acc + (c - mean) ** 2, 0) / s.experts) / mean
      : 0;
  const dropped = s.dropped.reduce((a, b) => a + b, 0);
  const lines = [
    `${s.scope}: ${s.tokensRouted / s.heads} tokens x ${s.heads} head${s.heads > 1 ? "s" : ""} = ${s.tokensRouted} routed rows, top-${s.topK} of ${s.experts} experts`,
  ];
  const perLine = 16;
  const rows: [string, readonly number[]][] =
    s.heads > 1 ? s.counts.map((r, h) => [`head ${h}`, r]) : [];
  rows.push(["load", perExpert]);
  for (let start = 0; start < s.experts; start += perLine) {
    const ids = Array.from({ length: Math.min(perLine, s.experts - start) }, (_, i) => start + i);
    lines.push(`  ${"expert".padEnd(8)}${ids.map((e) => String(e).padStart(6)).join("")}`);
    for (const [label, r] of rows)
      lines.push(`  ${label.padEnd(8)}${ids.map((e) => String(r[e]).padStart(6)).join("")}`);
  }
  const perHead = s.heads > 1 ? ` (per head: ${s.activeExpertsPerHead.join(", ")})` : "";
  lines.push(
    `  active experts ${s.activeExperts}/${s.experts} (${((100 * s.activeExperts) / s.experts).toFixed(1)}%)${perHead}; ` +
      `load CV ${cv.toFixed(3)}; max/mean ${(mean > 0 ? Math.max(...perExpert) / mean : 0).toFixed(2)}; ` +
      `dropped ${dropped}; aux loss ${s.auxLoss.toFixed(4)}`,
  );
  lines.push(`  counted: ${COUNTED}`);
  return lines.join("\n");
}

/** The documented layout of `--stats` (README, "Routing statistics"). */
export function statsJson(
  model: string,
  moec: MoecDevice,
  tokens: number,
  routing: readonly RoutingStats[],
) {
  return {
    model,
    adapter: moec.describeAdapter(),
    tokens,
    counted: COUNTED,
    layers: routing.map((s) => ({
      scope: s.scope,
      experts: s.experts,
      heads: s.heads,
      topK: s.topK,
      rowsRouted: s.tokensRouted,
      countsPerHead: s.counts,
      countsPerExpert: Array.from({ length: s.experts }, (_, e) =>
        s.counts.reduce((acc, row) => acc + row[e]!, 0),
      ),
      droppedPerHead: s.dropped,
      activeExperts: s.activeExperts,
      activeExpertsPerHead: s.activeExpertsPerHead,
      activeFraction: s.activeExperts / s.experts,
      top1PerExpert: s.top1,
      meanProbability: s.probSum.map((p) => p / s.tokensRouted),
      auxLoss: s.auxLoss,
    })),
  };
}
