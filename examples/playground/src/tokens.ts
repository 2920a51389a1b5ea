// The per-token routing view (as in the MH-MoE paper's figures 6 and 7): tokens down the side,
// MoE layers and their heads across, and in each cell the experts that (sub-)token chose with
// their gate weights. Cells carry data-experts / data-gates so tests can read what is shown.
import type { TokenRoutes } from "../../../runtime/routes.js";
import { el } from "./render.js";

/** Rows shown at most; the rest are summarised (the heatmaps count every token). */
const MAX_TOKENS = 256;

/** A distinct, stable colour per expert id (golden-angle hues). */
export function expertColour(e: number, light = false): string {
  const hue = (e * 137.508) % 360;
  return light ? `hsl(${hue.toFixed(0)} 70% 92%)` : `hsl(${hue.toFixed(0)} 55% 42%)`;
}

export function tokenRoutesView(
  routes: readonly TokenRoutes[],
  tokenIds?: Int32Array,
): HTMLElement {
  if (routes.length === 0) return el("p", { class: "empty" }, "This model has no router.");
  const tokens = routes[0]!.tokens;
  const shown = Math.min(tokens, MAX_TOKENS);
  const columns = routes.flatMap((r, site) =>
    Array.from({ length: r.heads }, (_, head) => ({ r, site, head })),
  );
  const top = el("tr", {}, el("th", { class: "sticky-col", rowspan: "2", scope: "col" }, "token"));
  const sub = el("tr");
  routes.forEach((r) => {
    top.append(el("th", { colspan: String(r.heads), scope: "colgroup", title: r.scope }, r.scope));
    for (let h = 0; h < r.heads; h++)
      sub.append(el("th", { scope: "col" }, r.heads > 1 ? `head ${h}` : `top-${r.topK}`));
  });
  const body = el("tbody");
  for (let t = 0; t < shown; t++) {
    const label = tokenIds ? `${t} · id ${tokenIds[t]}` : String(t);
    const row = el("tr", {}, el("th", { class: "sticky-col", scope: "row" }, label));
    for (const { r, site, head } of columns) {
      const base = (t * r.heads + head) * r.topK;
      const experts = Array.from(r.expert.subarray(base, base + r.topK));
      const gates = Array.from(r.gate.subarray(base, base + r.topK));
      const cell = el("td", {
        "data-site": String(site),
        "data-token": String(t),
        "data-head": String(head),
        "data-experts": experts.join(","),
        "data-gates": gates.map((g) => g.toFixed(6)).join(","),
      });
      experts.forEach((e, j) => {
        const chip = el(
          "span",
          {
            class: "chip",
            title: `${r.scope}${r.heads > 1 ? `, head ${head}` : ""}, token ${t}: choice ${j + 1} is expert ${e}, gate ${gates[j]!.toFixed(4)}`,
          },
          el("b", {}, `E${e}`),
          gates[j]!.toFixed(2),
        );
        chip.style.background = expertColour(e, true);
        chip.style.borderColor = expertColour(e);
        cell.append(chip);
      });
      row.append(cell);
    }
    body.append(row);
  }
  return el(
    "div",
    { class: "token-routes" },
    el(
      "p",
      { class: "note" },
      `Each cell: the experts the router chose for that token${routes.some((r) => r.heads > 1) ? " (MH-MoE: for each sub-token, one per head)" : ""}, ` +
        "best first, with the gate weight that scales each expert's output. Colours follow the " +
        "expert id. Choices are the router's, before any capacity limit.",
    ),
    el(
      "div",
      { class: "table-scroll tall" },
      el("table", { class: "grid routes" }, el("thead", {}, top, sub), body),
    ),
    ...(shown < tokens
      ? [el("p", { class: "muted" }, `showing the first ${shown} of ${tokens} tokens`)]
      : []),
  );
}
