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

/** A heatmap as an HTML grid: scrolls sideways inside its box with the row labels and the expert
 * numbers sticky, every cell numbered, a title with exact count and share, and a legend. */
function drawHeatmap(map: Heatmap): HTMLElement {
  let peak = 0;
  map.counts.forEach((row, i) => row.forEach((c) => (peak = Math.max(peak, c / map.totals[i]!))));
  const grid = el("div", {
    class: "heatmap",
    role: "table",
    "aria-label": map.title,
    "data-title": map.title,
    "data-rows": String(map.rowLabels.length),
    "data-columns": String(map.columns),
  });
  grid.style.setProperty("--columns", String(map.columns));
  grid.append(el("div", { class: "corner", role: "columnheader" }, "expert"));
  for (let e = 0; e < map.columns; e++)
    grid.append(el("div", { class: "col-label", role: "columnheader" }, String(e)));
  map.rowLabels.forEach((label, i) => {
    grid.append(el("div", { class: "row-label", role: "rowheader", title: label }, label));
    for (let e = 0; e < map.columns; e++) {
      const c = map.counts[i]![e];
      if (c === undefined) {
        grid.append(el("div", { class: "cell none", title: `${label}: no expert ${e}` }));
        continue;
      }
      const share = map.totals[i]! > 0 ? c / map.totals[i]! : 0;
      const t = peak > 0 ? share / peak : 0;
      const cell = el(
        "div",
        {
          class: c === 0 ? "cell idle" : t > 0.55 ? "cell dark" : "cell",
          role: "cell",
          "data-count": String(c),
          title: `${label}, expert ${e}: ${c} of ${map.totals[i]} assignments (${pct(share)})`,
        },
        String(c),
      );
      if (c > 0) cell.style.background = heat(t);
      grid.append(cell);
    }
  });
  return el(
    "figure",
    { class: "heatmap-figure" },
    el(
      "figcaption",
      {},
      map.title,
      el(
        "span",
        { class: "hint" },
        ` · ${map.columns} experts${map.columns > 12 ? ", scroll sideways" : ""}`,
      ),
    ),
    el("div", { class: "heatmap-scroll" }, grid),
    legend(peak),
  );
}

const pct = (x: number): string => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

/** White (0) to deep blue (the map's largest share). */
function heat(t: number): string {
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(235, 20)}, ${mix(242, 70)}, ${mix(250, 160)})`;
}

function legend(peak: number): HTMLElement {
  const bar = el("span", { class: "legend-bar" });
  bar.style.background = `linear-gradient(to right, ${heat(0)}, ${heat(0.5)}, ${heat(1)})`;
  return el(
    "div",
    { class: "legend", "aria-label": "Colour legend" },
    el("span", {}, "share of the row's assignments:"),
    el("span", { class: "legend-scale" }, "0", bar, pct(peak)),
    el("span", { class: "legend-idle" }, el("span", { class: "swatch idle" }), "no tokens"),
  );
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
  const head = [
    "MoE layer",
    "experts",
    "heads",
    "top-k",
    "routed rows",
    "active experts",
    "active per head",
    "dropped",
    "aux loss",
  ];
  return el(
    "div",
    { class: "routing" },
    ...maps.map(drawHeatmap),
    el(
      "p",
      { class: "note" },
      "Each cell counts the (sub-)token assignments an expert kept over this batch (after any " +
        "capacity limit). Colour: that count as a share of the row's assignments (routed rows × " +
        "top-k; per head: tokens × top-k), darkest = the largest share in the map; red: an " +
        "expert that got nothing. Hover a cell for its exact count and share.",
    ),
    el("div", { class: "table-scroll" }, table(head, rows)),
  );
}

export function errorView(err: unknown): HTMLElement {
  const message = err instanceof Error ? err.message : String(err);
  return el("pre", { class: "error" }, message);
}
