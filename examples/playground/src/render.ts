// DOM views of a run: output summary, timings, routing statistics and expert-activation heatmaps.
// Shared by both pages; no compiler imports.
import type { RoutingStats, TensorData } from "../../../runtime/session.js";
import type { PageRun } from "./gpu.js";

type Attrs = Record<string, string>;

/** document.createElement with attributes and children (strings become text). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

function table(head: string[], rows: (string | Node)[][], cls = ""): HTMLTableElement {
  return el(
    "table",
    { class: `grid ${cls}`.trim() },
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))),
  );
}

export const fmt = (x: number, digits = 4): string =>
  Number.isFinite(x)
    ? Math.abs(x) >= 1e4 || (x !== 0 && Math.abs(x) < 1e-3)
      ? x.toExponential(2)
      : x.toFixed(digits)
    : String(x);

const ms = (x: number | undefined): string => (x === undefined ? "-" : `${x.toFixed(1)} ms`);

export function summarize(t: TensorData) {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  for (const v of t.data) {
    if (Number.isNaN(v)) {
      nan++;
      continue;
    }
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const n = t.data.length - nan;
  const mean = n > 0 ? sum / n : NaN;
  return {
    mean,
    std: Math.sqrt(Math.max(0, sq / n - mean * mean)),
    min,
    max,
    l2: Math.sqrt(sq),
    nan,
  };
}

export function outputsView(run: PageRun): HTMLElement {
  const rows = [...run.result.outputs].map(([name, t]) => {
    const s = summarize(t);
    const head = Array.from(t.data.subarray(0, 6), (v) => fmt(v, 3)).join(", ");
    return [
      name,
      `[${t.shape.join(", ")}]`,
      fmt(s.mean),
      fmt(s.std),
      fmt(s.min),
      fmt(s.max),
      fmt(s.l2),
      String(s.nan),
      `${head}${t.data.length > 6 ? ", ..." : ""}`,
    ];
  });
  const inputs = [...run.inputs].map(([name, t]) => `${name} [${t.shape.join(", ")}]`).join(", ");
  return el(
    "div",
    { class: "outputs" },
    el("p", { class: "muted" }, `inputs: ${inputs}`),
    table(["output", "shape", "mean", "std", "min", "max", "L2 norm", "NaN", "first values"], rows),
  );
}

export function timingsView(
  run: PageRun,
  compileMs?: { front: number; back: number },
): HTMLElement {
  const t = run.timings;
  const rows: [string, string][] = [];
  if (compileMs) {
    rows.push(["front end (parse, check, lower)", ms(compileMs.front)]);
    rows.push(["passes + WGSL code generation", ms(compileMs.back)]);
  }
  rows.push(["weights (CPU)", ms(t.weightsMs)]);
  rows.push(["session: upload + pipeline compile", ms(t.sessionMs)]);
  rows.push(["first run (incl. read-back)", ms(t.firstRunMs)]);
  if (t.warmRuns > 0) rows.push([`warm run, median of ${t.warmRuns}`, ms(t.warmRunMs)]);
  return el(
    "div",
    { class: "timings" },
    el("p", { class: "muted" }, `adapter: ${run.adapter}`),
    table(["stage", "time"], rows),
  );
}

/** Share of each layer's kept assignments per expert; rows are layers or heads. */
interface Heatmap {
  readonly title: string;
  readonly rowLabels: readonly string[];
  readonly columns: number;
  /** counts[row][expert]; undefined cells (a layer with fewer experts) are grey. */
  readonly counts: readonly (readonly number[])[];
  /** What each row's counts are a share of. */
  readonly totals: readonly number[];
}

function layerHeatmap(routing: readonly RoutingStats[]): Heatmap {
  return {
    title: "layer × expert",
    rowLabels: routing.map((r) => r.scope),
    columns: Math.max(...routing.map((r) => r.experts)),
    counts: routing.map((r) =>
      Array.from({ length: r.experts }, (_, e) => r.counts.reduce((s, h) => s + h[e]!, 0)),
    ),
    totals: routing.map((r) => r.tokensRouted * r.topK),
  };
}

function headHeatmap(r: RoutingStats): Heatmap {
  const perHead = (r.tokensRouted / r.heads) * r.topK;
  return {
    title: `${r.scope}: head × expert`,
    rowLabels: r.counts.map((_, h) => `head ${h}`),
    columns: r.experts,
    counts: r.counts,
    totals: r.counts.map(() => perHead),
  };
}

const LABEL_WIDTH = 150;
const CELL_H = 22;

function drawHeatmap(map: Heatmap): HTMLCanvasElement {
  const cellW = Math.max(6, Math.min(40, Math.floor(720 / map.columns)));
  const width = LABEL_WIDTH + cellW * map.columns + 8;
  const height = 18 + CELL_H * map.rowLabels.length + 4;
  const ratio = globalThis.devicePixelRatio || 1;
  const canvas = el("canvas", {
    class: "heatmap",
    "data-title": map.title,
    "data-rows": String(map.rowLabels.length),
    "data-columns": String(map.columns),
  });
  canvas.width = Math.ceil(width * ratio);
  canvas.height = Math.ceil(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const g = canvas.getContext("2d");
  if (!g) return canvas;
  g.scale(ratio, ratio);
  g.font = "11px ui-monospace, monospace";
  g.textBaseline = "middle";
  let peak = 0;
  map.counts.forEach((row, i) => row.forEach((c) => (peak = Math.max(peak, c / map.totals[i]!))));
  // Expert indices along the top.
  g.fillStyle = "#555";
  g.textAlign = "center";
  const step = Math.ceil(24 / cellW);
  for (let e = 0; e < map.columns; e += step)
    g.fillText(String(e), LABEL_WIDTH + (e + 0.5) * cellW, 9);
  map.rowLabels.forEach((label, i) => {
    const y = 18 + i * CELL_H;
    g.fillStyle = "#222";
    g.textAlign = "right";
    g.fillText(label.length > 22 ? `…${label.slice(-21)}` : label, LABEL_WIDTH - 6, y + CELL_H / 2);
    for (let e = 0; e < map.columns; e++) {
      const c = map.counts[i]![e];
      const x = LABEL_WIDTH + e * cellW;
      if (c === undefined) {
        g.fillStyle = "#ddd";
      } else {
        const share = c / map.totals[i]!;
        g.fillStyle = heat(peak > 0 ? share / peak : 0, c > 0);
      }
      g.fillRect(x, y, cellW - 1, CELL_H - 1);
      if (c !== undefined && cellW >= 22) {
        const share = c / map.totals[i]!;
        g.fillStyle = peak > 0 && share / peak > 0.55 ? "#fff" : "#333";
        g.textAlign = "center";
        g.fillText(String(c), x + cellW / 2, y + CELL_H / 2);
      }
    }
  });
  return canvas;
}

/** White (0) to deep blue (the map's largest share); experts with no tokens get a red tint. */
function heat(t: number, active: boolean): string {
  if (!active) return "#fbe9e7";
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(235, 20)}, ${mix(242, 70)}, ${mix(250, 160)})`;
}

export function routingView(routing: readonly RoutingStats[]): HTMLElement {
  if (routing.length === 0) return el("p", { class: "muted" }, "This model has no router.");
  const rows = routing.map((r) => [
    r.scope,
    String(r.experts),
    String(r.heads),
    String(r.topK),
    String(r.tokensRouted),
    `${r.activeExperts} / ${r.experts}`,
    r.heads > 1 ? r.activeExpertsPerHead.join(", ") : "-",
    String(r.dropped.reduce((a, b) => a + b, 0)),
    fmt(r.auxLoss),
  ]);
  const maps = [layerHeatmap(routing), ...routing.filter((r) => r.heads > 1).map(headHeatmap)];
  return el(
    "div",
    { class: "routing" },
    table(
      [
        "MoE layer",
        "experts",
        "heads",
        "top-k",
        "routed rows",
        "active experts",
        "active per head",
        "dropped",
        "aux loss",
      ],
      rows,
    ),
    el(
      "p",
      { class: "muted" },
      "Each cell counts the kept (sub-)token assignments routed to an expert (after any " +
        "capacity limit) over this batch; the colour is that count as a share of the row's " +
        "assignments (routed rows × top-k; per head: tokens × top-k), darkest = the largest share " +
        "in the map. Red: an expert that received nothing. Active experts: experts with at least " +
        "one kept assignment.",
    ),
    ...maps.map((m) => el("figure", {}, el("figcaption", {}, m.title), drawHeatmap(m))),
  );
}

export function errorView(err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  return el("pre", { class: "error" }, message);
}
