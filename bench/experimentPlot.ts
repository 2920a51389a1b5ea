// The parity experiment's SVG: training cross-entropy (mean over seeds) per variant, validation
// perplexity per seed with the mean, and the distribution of selection ratios (sorted cells).
export interface PlotVariant {
  readonly label: string;
  readonly perplexities: readonly number[];
  /** Selection ratio x experts of every (seed, layer, expert) cell. */
  readonly cells: readonly number[];
  /** Training cross-entropy per step, one curve per seed. */
  readonly curve: readonly (readonly number[])[];
}

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"];
const W = 300;
const H = 220;
const PAD = 40;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

function panel(x0: number, title: string, xLabel: string, yLabel: string, body: string): string {
  return `<g transform="translate(${x0},30)">
<text x="${W / 2}" y="-12" text-anchor="middle" font-size="12" font-weight="bold">${esc(title)}</text>
<rect x="${PAD}" y="0" width="${W - PAD}" height="${H - PAD}" fill="none" stroke="#888"/>
<text x="${(W + PAD) / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>
<text transform="translate(10,${(H - PAD) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(yLabel)}</text>
${body}</g>`;
}

function range(xs: readonly number[]): [number, number] {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
  return [lo - pad, hi + pad];
}

function ticks(lo: number, hi: number, toY: (v: number) => number): string {
  return [0, 0.5, 1]
    .map((f) => lo + f * (hi - lo))
    .map(
      (v) =>
        `<text x="${PAD - 3}" y="${toY(v) + 4}" text-anchor="end" font-size="9">${v.toPrecision(3)}</text>`,
    )
    .join("");
}

export function parityPlot(variants: readonly PlotVariant[], threshold: number): string {
  const plotH = H - PAD;
  const yOf = (lo: number, hi: number) => (v: number) => plotH - ((v - lo) / (hi - lo)) * plotH;

  // Panel 1: training cross-entropy, mean over seeds.
  const means = variants.map((v) =>
    v.curve[0]!.map((_, s) => v.curve.reduce((a, c) => a + c[s]!, 0) / v.curve.length),
  );
  const [clo, chi] = range(means.flat());
  const cy = yOf(clo, chi);
  const lines = means
    .map((m, i) => {
      const pts = m.map((y, s) => `${PAD + (s / Math.max(1, m.length - 1)) * (W - PAD)},${cy(y)}`);
      return `<polyline fill="none" stroke="${COLORS[i]}" stroke-width="1.5" points="${pts.join(" ")}"/>`;
    })
    .join("");
  const p1 = panel(
    0,
    "training cross-entropy (mean of seeds)",
    "step",
    "nats/byte",
    lines + ticks(clo, chi, cy),
  );

  // Panel 2: validation perplexity, each seed a dot and the mean a bar.
  const [plo, phi] = range(variants.flatMap((v) => v.perplexities));
  const py = yOf(plo, phi);
  const slot = (W - PAD) / variants.length;
  const dots = variants
    .map((v, i) => {
      const cx = PAD + slot * (i + 0.5);
      const mean = v.perplexities.reduce((a, b) => a + b, 0) / v.perplexities.length;
      return (
        v.perplexities
          .map((p) => `<circle cx="${cx}" cy="${py(p)}" r="3" fill="${COLORS[i]}"/>`)
          .join("") +
        `<line x1="${cx - 12}" x2="${cx + 12}" y1="${py(mean)}" y2="${py(mean)}" stroke="${COLORS[i]}" stroke-width="2"/>`
      );
    })
    .join("");
  const p2 = panel(
    W + 30,
    "validation perplexity (dots: seeds, bar: mean)",
    "variant",
    "perplexity",
    dots + ticks(plo, phi, py),
  );

  // Panel 3: selection ratio x E of every cell, sorted (the whole distribution).
  const slo = 0;
  const shi = range([threshold, ...variants.flatMap((v) => v.cells)])[1];
  const sy = yOf(slo, shi);
  const sorted = variants
    .map((v, i) => {
      const s = [...v.cells].sort((a, b) => a - b);
      const pts = s.map((y, k) => `${PAD + (k / Math.max(1, s.length - 1)) * (W - PAD)},${sy(y)}`);
      return `<polyline fill="none" stroke="${COLORS[i]}" stroke-width="1.5" points="${pts.join(" ")}"/>`;
    })
    .join("");
  const line = `<line x1="${PAD}" x2="${W}" y1="${sy(threshold)}" y2="${sy(threshold)}" stroke="#444" stroke-dasharray="4 3"/><text x="${W - 2}" y="${sy(threshold) - 3}" text-anchor="end" font-size="9">active above ${threshold}</text>`;
  const p3 = panel(
    2 * (W + 30),
    "selection ratio x E per (layer, expert) cell",
    "cells, sorted",
    "ratio x E",
    sorted + line + ticks(slo, shi, sy),
  );

  const legend = variants
    .map(
      (v, i) =>
        `<rect x="${10 + i * 200}" y="${H + 45}" width="12" height="12" fill="${COLORS[i]}"/><text x="${28 + i * 200}" y="${H + 55}" font-size="12">${esc(v.label)}</text>`,
    )
    .join("");
  const width = 3 * W + 120;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 70}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${p1}${p2}${p3}${legend}
</svg>
`;
}
