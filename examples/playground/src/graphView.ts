// The graph before and after optimisation, drawn by Graphviz compiled to WebAssembly
// (@viz-js/viz) from the same DOT text `moec graph --format dot` prints. The renderer (about a
// megabyte) is loaded on first use, so the page's first paint does not wait for it.
import type { Graph } from "../../../compiler/ir/graph.js";
import { printGraphDot } from "../../../compiler/ir/print.js";

type Viz = Awaited<ReturnType<typeof import("@viz-js/viz").instance>>;
let viz: Promise<Viz> | undefined;

function loadViz(): Promise<Viz> {
  viz ??= import("@viz-js/viz").then((m) => m.instance());
  return viz;
}

/** Largest graph drawn (nodes); bigger ones are shown as DOT text, Graphviz would take long. */
const MAX_NODES = 600;

/** Renders `graph` into `target`; resolves to the number of nodes drawn (0 when shown as text). */
export async function drawGraph(graph: Graph, target: HTMLElement): Promise<number> {
  // Graphviz has no metrics for the generic "monospace" and sizes boxes too small; Courier's
  // advance (0.6 em) is that of the monospace fonts the page draws the labels in.
  const dot = printGraphDot(graph).replaceAll('fontname="monospace"', 'fontname="Courier"');
  if (graph.nodes.length > MAX_NODES) {
    const pre = document.createElement("pre");
    pre.className = "code";
    pre.textContent = dot;
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = `${graph.nodes.length} nodes: too many to lay out here; the DOT text follows (moec graph --format dot prints it too).`;
    target.replaceChildren(note, pre);
    return 0;
  }
  // Graphviz sizes boxes from its own font metrics: a sans face it knows keeps labels inside.
  const svg = (await loadViz()).renderSVGElement(dot, {
    edgeAttributes: { fontname: "Helvetica", fontsize: 9, fontcolor: "#59636e", color: "#8c959f" },
  });
  svg.setAttribute("data-graph", graph.name);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `IR graph of ${graph.name}`);
  target.replaceChildren(svg);
  return graph.nodes.length;
}
