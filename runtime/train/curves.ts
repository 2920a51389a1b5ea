// The training curves as a hand-written SVG: cross-entropy (training, per step, and validation)
// and expert activation per MoE layer (the share of its experts that received at least one kept
// assignment in the step's batch) over steps. Pure string building; browser-safe.

export interface CurveData {
  readonly title: string;
  /** Per step: training cross-entropy and, per MoE layer, active experts over experts. */
  readonly steps: readonly {
    readonly step: number;
    readonly ce: number;
    readonly activation: Readonly<Record<string, number>>;
  }[];
  readonly validation: readonly { readonly step: number; readonly ce: number }[];
}

interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dots?: boolean;
}

const WIDTH = 720;
const PANEL_HEIGHT = 260;
const MARGIN = { left: 70, right: 190, top: 40, bottom: 50 };
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"];

export function curvesSvg(data: CurveData): string {
  const lastStep = Math.max(1, ...data.steps.map((s) => s.step));
  const x: [number, number] = [Math.max(0, (data.steps[0]?.step ?? 1) - 1), lastStep];
  const ce = [...data.steps.map((s) => s.ce), ...data.validation.map((v) => v.ce)];
  const loss: Series[] = [
    { name: "training", color: COLORS[0]!, points: data.steps.map((s) => [s.step, s.ce]) },
    {
      name: "validation",
      color: COLORS[1]!,
      points: data.validation.map((v) => [v.step, v.ce]),
      dots: true,
    },
  ];
  const layers = [...new Set(data.steps.flatMap((s) => Object.keys(s.activation)))];
  const activation: Series[] = layers.map((layer, i) => ({
    name: shortScope(layer),
    color: COLORS[(i + 2) % COLORS.length]!,
    points: data.steps.flatMap((s) =>
      s.activation[layer] === undefined ? [] : [[s.step, 100 * s.activation[layer]!] as const],
    ),
  }));
  const panelTotal = PANEL_HEIGHT + MARGIN.top + MARGIN.bottom;
  const height = 2 * panelTotal + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escape(data.title)}</text>`,
    panel(30, "Cross-entropy", "nats per byte", x, range(ce), loss),
    panel(
      30 + panelTotal,
      "Expert activation per MoE layer",
      "active experts (%)",
      x,
      [0, 105],
      activation,
      100,
      ["active: at least one kept", "assignment in the step's", "batch"],
    ),
    "</svg>",
  ];
  return parts.join("\n") + "\n";
}

function panel(
  top: number,
  title: string,
  yLabel: string,
  xRange: [number, number],
  yRange: [number, number],
  series: readonly Series[],
  /** The highest tick (below yRange[1] where the range leaves room above the data). */
  yTickMax = yRange[1],
  /** Lines of small print under the legend (a definition). */
  note: readonly string[] = [],
): string {
  const left = MARGIN.left;
  const plotTop = top + MARGIN.top;
  const w = WIDTH - MARGIN.left - MARGIN.right;
  const h = PANEL_HEIGHT;
  const sx = (v: number) => left + ((v - xRange[0]) / (xRange[1] - xRange[0])) * w;
  const sy = (v: number) => plotTop + h - ((v - yRange[0]) / (yRange[1] - yRange[0])) * h;
  const out: string[] = [
    `<text x="${left}" y="${plotTop - 12}" font-size="13" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${left}" y="${plotTop}" width="${w}" height="${h}" fill="none" stroke="#444"/>`,
  ];
  for (const t of ticks(yRange[0], yTickMax)) {
    const y = fix(sy(t));
    out.push(
      `<line x1="${left}" x2="${left + w}" y1="${y}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${label(t)}</text>`,
    );
  }
  for (const t of ticks(xRange[0], xRange[1]).filter((t) => Number.isInteger(t))) {
    const xPos = fix(sx(t));
    out.push(
      `<line x1="${xPos}" x2="${xPos}" y1="${plotTop + h}" y2="${plotTop + h + 5}" stroke="#444"/>`,
      `<text x="${xPos}" y="${plotTop + h + 18}" text-anchor="middle">${label(t)}</text>`,
    );
  }
  out.push(
    `<text x="${left + w / 2}" y="${plotTop + h + 38}" text-anchor="middle">step</text>`,
    `<text transform="translate(${left - 45} ${plotTop + h / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.map(([a, b]) => `${fix(sx(a))},${fix(sy(b))}`);
    if (pts.length > 1)
      out.push(
        `<polyline points="${pts.join(" ")}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`,
      );
    if (s.dots || pts.length === 1)
      for (const p of pts) {
        const [cx, cy] = p.split(",");
        out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${s.color}"/>`);
      }
    const ly = plotTop + 10 + 18 * i;
    const lx = left + w + 12;
    out.push(
      `<line x1="${lx}" x2="${lx + 20}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escape(s.name)}</text>`,
    );
  });
  note.forEach((line, i) => {
    const y = plotTop + 18 * series.length + 24 + 15 * i;
    out.push(
      `<text x="${left + w + 12}" y="${y}" fill="#555" font-size="11">${escape(line)}</text>`,
    );
  });
  return out.join("\n");
}

/** The data's range with a little room; a flat or empty range gets a unit span. */
function range(values: readonly number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (hi - lo < 1e-9) return [lo - 0.5, hi + 0.5];
  const pad = 0.05 * (hi - lo);
  return [Math.max(0, lo - pad), hi + pad];
}

/** About five round tick values inside [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push(Number(t.toPrecision(12)));
  return out;
}

function label(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
}

function fix(v: number): string {
  return v.toFixed(1);
}

/** `lm.blocks.1.ffn.router` -> `block 1` (the block a router sits in, as weights name it). */
function shortScope(scope: string): string {
  const m = /blocks\.(\d+)/.exec(scope);
  return m ? `block ${m[1]}` : scope;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
