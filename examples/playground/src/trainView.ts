// The Train tab's live views: the loss curve and, per MoE layer (and per head for MH-MoE), a
// heatmap of each expert's share of the step's kept assignments, one column per step. Both are
// inline SVG, extended step by step rather than redrawn.
import type { TrainStep } from "./train.js";

const SVG = "http://www.w3.org/2000/svg";
const svg = <K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
};

const W = 560;
const LOSS_H = 150;
const PAD = { left: 44, right: 8, top: 8, bottom: 22 };
const CELL_H = 8;
/** The heatmaps' left margin, for the head labels. */
const LABEL_W = 44;
const AXIS_H = 14;

export class TrainView {
  readonly element: HTMLElement;
  readonly #steps: number;
  readonly #losses: number[] = [];
  readonly #lossPath: SVGPolylineElement;
  readonly #lossSvg: SVGSVGElement;
  readonly #yLabels: SVGTextElement[];
  readonly #maps = new Map<string, { svg: SVGSVGElement; heads: number; experts: number }>();
  readonly #mapsBox: HTMLElement;

  constructor(steps: number) {
    this.#steps = steps;
    this.element = document.createElement("div");
    this.element.className = "train-view";
    this.#lossSvg = svg("svg", {
      viewBox: `0 0 ${W} ${LOSS_H}`,
      class: "loss-curve",
      role: "img",
      "aria-label": "Training loss by step",
    });
    const plotW = W - PAD.left - PAD.right;
    const plotH = LOSS_H - PAD.top - PAD.bottom;
    this.#lossSvg.append(
      svg("rect", { x: PAD.left, y: PAD.top, width: plotW, height: plotH, class: "frame" }),
    );
    this.#yLabels = [0, 1].map((i) => {
      const t = svg("text", { x: PAD.left - 4, y: PAD.top + i * plotH + 4, class: "axis end" });
      this.#lossSvg.append(t);
      return t;
    });
    for (const [x, label, cls] of [
      [PAD.left, "1", "axis"],
      [W - PAD.right, String(steps), "axis end"],
      [PAD.left + plotW / 2, "step", "axis mid"],
    ] as const) {
      const t = svg("text", { x, y: LOSS_H - 6, class: cls });
      t.textContent = label;
      this.#lossSvg.append(t);
    }
    this.#lossPath = svg("polyline", { class: "loss", points: "" });
    this.#lossSvg.append(this.#lossPath);
    const lossBox = document.createElement("figure");
    const caption = document.createElement("figcaption");
    caption.textContent = "Loss (cross-entropy + 0.01 × balance), nats per byte";
    lossBox.append(caption, this.#lossSvg);
    this.#mapsBox = document.createElement("div");
    this.#mapsBox.className = "activation-maps";
    this.element.append(lossBox, this.#mapsBox);
  }

  add(s: TrainStep): void {
    this.#losses.push(s.loss);
    this.#drawLoss();
    for (const site of s.sites) this.#addColumn(site.scope, s.step, site.counts);
  }

  #drawLoss(): void {
    const plotW = W - PAD.left - PAD.right;
    const plotH = LOSS_H - PAD.top - PAD.bottom;
    const finite = this.#losses.filter(Number.isFinite);
    // The data's own range (with a margin), so that a fall of a few tenths shows.
    const top = Math.max(...finite);
    const bottom = Math.min(...finite);
    const margin = 0.05 * (top - bottom || 1);
    const hi = top + margin;
    const lo = Math.max(0, bottom - margin);
    const span = hi - lo || 1;
    const x = (i: number) => PAD.left + (this.#steps <= 1 ? 0 : (i / (this.#steps - 1)) * plotW);
    const y = (v: number) => PAD.top + ((hi - v) / span) * plotH;
    this.#lossPath.setAttribute(
      "points",
      this.#losses.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "),
    );
    this.#yLabels[0]!.textContent = hi.toFixed(2);
    this.#yLabels[1]!.textContent = lo.toFixed(2);
  }

  /** One column of a site's heatmap: per head, each expert's share of that head's assignments. */
  #addColumn(scope: string, step: number, counts: readonly (readonly number[])[]): void {
    const heads = counts.length;
    const experts = counts[0]?.length ?? 0;
    let map = this.#maps.get(scope);
    if (!map) {
      const mapH = heads * experts * CELL_H + (heads - 1) * 4;
      const node = svg("svg", {
        viewBox: `0 0 ${W} ${mapH + AXIS_H}`,
        class: "activation-map",
        role: "img",
        "aria-label": `Expert shares of ${scope} by step`,
      });
      node.append(
        svg("rect", { x: LABEL_W, y: 0, width: W - LABEL_W, height: mapH, class: "frame" }),
      );
      const label = (x: number, y: number, text: string, cls: string) => {
        const t = svg("text", { x, y, class: cls });
        t.textContent = text;
        node.append(t);
      };
      for (let h = 0; h < heads; h++) {
        const y = h * (experts * CELL_H + 4) + (experts * CELL_H) / 2 + 4;
        label(LABEL_W - 4, y, heads > 1 ? `head ${h + 1}` : `${experts} exp.`, "axis end");
      }
      label(LABEL_W, mapH + AXIS_H - 2, "step 1", "axis");
      label(W, mapH + AXIS_H - 2, `step ${this.#steps}`, "axis end");
      const figure = document.createElement("figure");
      figure.dataset.scope = scope;
      const caption = document.createElement("figcaption");
      caption.textContent = `${scope}: each expert's share of the step's assignments, ${experts} experts (one row each)${heads > 1 ? ` per head` : ""}; darker = more, white = unused`;
      figure.append(caption, node);
      this.#mapsBox.append(figure);
      map = { svg: node, heads, experts };
      this.#maps.set(scope, map);
    }
    const colW = (W - LABEL_W) / this.#steps;
    counts.forEach((head, h) => {
      const total = head.reduce((a, b) => a + b, 0) || 1;
      head.forEach((c, e) => {
        const share = c / total;
        map.svg.append(
          svg("rect", {
            x: (LABEL_W + (step - 1) * colW).toFixed(2),
            y: (h * experts + e) * CELL_H + h * 4,
            width: (colW + 0.05).toFixed(2),
            height: CELL_H,
            class: "cell",
            // Uniform routing (1 / experts) sits mid-scale; an unused expert is white.
            "fill-opacity": Math.min(1, share * Math.min(experts, 8) * 0.5).toFixed(3),
          }),
        );
      });
    });
  }
}
