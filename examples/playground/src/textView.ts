// The Text tab's views: the loaded model's card, and the per-token expert routing: the generated
// tokens as chips; hovering or clicking one shows, in a grid of MoE layers (and heads) by experts,
// which experts that token used; with none chosen, the grid counts every generated token.
// Chips and cells carry data-* attributes so tests read what is shown.
import type { TokenRouting } from "../../../runtime/generate.js";
import type { PlanRoutingSite } from "../../../plan/format.js";
import { el } from "./render.js";

export interface ModelInfo {
  /** The picked folder's name ("" when its files were picked). */
  readonly folder: string;
  /** config.json's architectures[0], else its model_type. */
  readonly architecture: string;
  readonly layers: number;
  readonly parameters: number;
  /** Parameters one token runs through: everything but the experts it did not choose. */
  readonly activeParameters: number;
  /** How the checkpoint stores its weights (config.json's dtype / torch_dtype). */
  readonly dtype: string;
  readonly vocab: number;
  /** Positions the KV cache holds: prompt plus new tokens at most. */
  readonly context: number;
  readonly sites: readonly PlanRoutingSite[];
}

/** 1234567 -> "1.23 M". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toPrecision(3)} B`;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)} M`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)} k`;
  return String(n);
}

export function modelCard(info: ModelInfo, warnings: readonly string[]): HTMLElement {
  const site = info.sites[0];
  const facts = [
    `${info.layers} layers`,
    site
      ? `${info.sites.length} MoE layers × ${site.experts} experts, top-${site.topK}` +
        (site.heads > 1 ? `, ${site.heads} heads` : "")
      : "no MoE layers",
    `${formatCount(info.parameters)} parameters (${formatCount(info.activeParameters)} active per token)`,
    info.dtype,
    `vocabulary ${info.vocab}`,
    `context ${info.context}`,
  ];
  return el(
    "div",
    { class: "text-card" },
    el(
      "div",
      { class: "text-card-title" },
      el("b", {}, info.folder || info.architecture),
      ...(info.folder ? [el("span", { class: "muted" }, info.architecture)] : []),
    ),
    el("div", { class: "text-card-facts" }, facts.join(" · ")),
    ...warnings.map((w) => el("div", { class: "text-card-warning" }, `⚠ ${w}`)),
  );
}

/** A token's text with its whitespace made visible, short enough for a chip. */
export function visibleToken(text: string): string {
  if (text === "") return "∅";
  const shown = text.replace(/ /g, "·").replace(/\n/g, "↵").replace(/\t/g, "⇥");
  if (/^·+$/.test(shown) && shown.length > 3) return `·×${shown.length}`;
  return shown.length > 14 ? `${shown.slice(0, 13)}…` : shown;
}

/** "model.layers.3.block_sparse_moe.gate" -> "layer 3". */
function layerLabel(scope: string): string {
  const m = /(?:^|\.)(?:layers|blocks|h)\.(\d+)\./.exec(scope);
  return m ? `layer ${m[1]}` : scope;
}

export interface StreamedToken {
  readonly id: number;
  readonly text: string;
}

/**
 * The routing view of one generation: chips are added as tokens stream in; `setRouting` gives
 * them the experts they used once the generation is done.
 */
export class RoutingView {
  readonly element: HTMLElement;
  readonly #chips: HTMLElement;
  readonly #caption: HTMLElement;
  readonly #grid: HTMLElement;
  readonly #sites: readonly PlanRoutingSite[];
  #routing: readonly (readonly TokenRouting[])[] = [];
  #tokens: StreamedToken[] = [];
  /** The token clicked (kept when the pointer leaves), or undefined for all tokens. */
  #pinned: number | undefined;
  #cells: HTMLElement[][][] = [];
  /** Why a token has no routing; undefined while the generation runs. */
  #unrouted: string | undefined;

  constructor(sites: readonly PlanRoutingSite[]) {
    this.#sites = sites;
    this.#chips = el("div", {
      class: "text-chips",
      role: "list",
      "aria-label": "Generated tokens",
    });
    this.#caption = el("div", { class: "text-grid-caption" });
    this.#grid = this.#buildGrid();
    this.element = el(
      "div",
      { class: "text-routing" },
      el("h3", {}, "Experts per token"),
      el(
        "p",
        { class: "note" },
        "Hover or click a generated token to see the experts each MoE layer sent it to. A token's " +
          "experts are chosen when it is fed back to the model, so the last token has none yet.",
      ),
      this.#chips,
      this.#caption,
      el("div", { class: "heatmap-scroll" }, this.#grid),
    );
    this.#show(undefined);
  }

  /** Adds one streamed token as a chip. */
  add(token: StreamedToken): void {
    const index = this.#tokens.length;
    this.#tokens.push(token);
    const chip = el(
      "button",
      {
        type: "button",
        class: "text-chip",
        role: "listitem",
        "data-index": String(index),
        "data-id": String(token.id),
        title: `token ${index}: id ${token.id} ${JSON.stringify(token.text)}`,
      },
      visibleToken(token.text),
    );
    chip.addEventListener("mouseenter", () => this.#show(index));
    chip.addEventListener("focus", () => this.#show(index));
    chip.addEventListener("mouseleave", () => this.#show(this.#pinned));
    chip.addEventListener("blur", () => this.#show(this.#pinned));
    chip.addEventListener("click", () => {
      this.#pinned = this.#pinned === index ? undefined : index;
      this.#show(this.#pinned);
    });
    this.#chips.append(chip);
  }

  /**
   * The generation ended: routing[i] holds the experts token i used, per site and head
   * (generate's `routing`); `unrouted` says why a token without routing has none.
   */
  finish(routing: readonly (readonly TokenRouting[])[], unrouted: string): void {
    this.#routing = routing;
    this.#unrouted = unrouted;
    for (const chip of this.#chips.children as HTMLCollectionOf<HTMLElement>) {
      const r = routing[Number(chip.dataset.index)];
      if (r)
        chip.dataset.experts = r.map((s) => s.experts.map((h) => h.join(",")).join("|")).join(";");
      else chip.classList.add("unrouted");
    }
    this.#show(this.#pinned);
  }

  /** Shows token `index`'s experts, or (undefined) how often each expert was used. */
  #show(index: number | undefined): void {
    for (const chip of this.#chips.children as HTMLCollectionOf<HTMLElement>)
      chip.classList.toggle("selected", Number(chip.dataset.index) === index);
    this.#grid.dataset.token = index === undefined ? "all" : String(index);
    const token = index === undefined ? undefined : this.#tokens[index];
    const routing = index === undefined ? undefined : this.#routing[index];
    if (index !== undefined && !routing) {
      const what = `Token ${index} ${JSON.stringify(token?.text ?? "")}`;
      this.#caption.textContent = `${what}: ${this.#unrouted ?? "its experts are shown when the generation ends"}.`;
      this.#paint(() => ({ used: false, count: 0 }), 1);
      return;
    }
    if (routing) {
      this.#caption.textContent = `Token ${index} ${JSON.stringify(token!.text)} (id ${token!.id}): the experts each layer chose for it.`;
      this.#paint(
        (site, head, e) => ({
          used: routing[site]?.experts[head]?.includes(e) ?? false,
          count: 0,
        }),
        1,
      );
      return;
    }
    // No token chosen: per layer and expert, how many generated tokens used it.
    const counts = this.#sites.map((s) =>
      Array.from({ length: s.heads }, () => new Array<number>(s.experts).fill(0)),
    );
    for (const token of this.#routing)
      token.forEach((s, site) =>
        s.experts.forEach((row, head) => row.forEach((e) => counts[site]![head]![e]!++)),
      );
    const max = Math.max(1, ...counts.flat(2));
    this.#caption.textContent =
      this.#routing.length === 0
        ? "Generate to see the experts of each token."
        : `All ${this.#routing.length} routed tokens: how many used each expert (darker = more).`;
    this.#paint((site, head, e) => ({ used: false, count: counts[site]![head]![e]! }), max);
  }

  #paint(
    state: (site: number, head: number, expert: number) => { used: boolean; count: number },
    max: number,
  ): void {
    this.#cells.forEach((rows, site) =>
      rows.forEach((cells, head) =>
        cells.forEach((cell, e) => {
          const { used, count } = state(site, head, e);
          cell.dataset.used = String(used);
          cell.classList.toggle("used", used);
          cell.textContent = count > 0 ? String(count) : "";
          cell.style.background =
            count > 0 ? `rgb(26 86 219 / ${(0.12 + 0.78 * (count / max)).toFixed(3)})` : "";
          cell.classList.toggle("dark", count / max > 0.5);
        }),
      ),
    );
  }

  #buildGrid(): HTMLElement {
    const experts = Math.max(1, ...this.#sites.map((s) => s.experts));
    const grid = el("div", { class: "text-grid", role: "grid" });
    grid.style.setProperty("--columns", String(experts));
    grid.append(el("div", { class: "corner" }, "expert"));
    for (let e = 0; e < experts; e++) grid.append(el("div", { class: "col-label" }, String(e)));
    this.#cells = this.#sites.map((s, site) =>
      Array.from({ length: s.heads }, (_, head) => {
        const label = layerLabel(s.scope) + (s.heads > 1 ? ` · head ${head}` : "");
        grid.append(el("div", { class: "row-label", title: s.scope }, label));
        return Array.from({ length: experts }, (_, e) => {
          const cell = el("div", {
            class: e < s.experts ? "cell" : "cell none",
            "data-site": String(site),
            "data-head": String(head),
            "data-expert": String(e),
            title: `${s.scope}${s.heads > 1 ? `, head ${head}` : ""}: expert ${e}`,
          });
          grid.append(cell);
          return cell;
        });
      }),
    );
    return grid;
  }
}
