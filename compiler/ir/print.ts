// The canonical text form of an IR graph: the golden format and `moec graph --stage ir`.
import type { Graph, Node } from "./graph.js";
import { formatType } from "./types.js";

export function printGraph(graph: Graph): string {
  const lines: string[] = [];
  const name = (v: number) => `%${v}`;
  lines.push(
    // Inputs name their values, as `return` names the outputs: every %n used is defined.
    `graph ${graph.name}(${graph.inputs.map((i) => `${i.name} = ${name(i.value)}: ${formatType(graph.values[i.value]!.type)}`).join(", ")}) {`,
  );
  for (const node of graph.nodes) {
    if (node.op === "input") continue;
    const outs = node.outputs.map(name).join(", ");
    const types = node.outputs.map((v) => formatType(graph.values[v]!.type)).join(", ");
    lines.push(
      `  ${outs} = ${node.op}${formatAttrs(node)}(${node.inputs.map(name).join(", ")}) : ${types}${node.scope ? `  # ${node.scope}` : ""}`,
    );
  }
  lines.push(`  return ${graph.outputs.map((o) => `${o.name} = ${name(o.value)}`).join(", ")}`);
  for (const site of graph.routing) {
    lines.push(
      `  routing ${site.scope}: experts=${site.experts} top_k=${site.topK} heads=${site.heads} counts=%${site.counts} top1=%${site.top1} prob_sum=%${site.probSum} dropped=%${site.dropped}`,
    );
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}

function formatAttrs(node: Node): string {
  const entries = Object.entries(node.attrs as Record<string, unknown>);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}=${typeof v === "string" ? JSON.stringify(v) : String(v)}`).join(", ")}}`;
}

/** Graphviz text: one box per node, edges along values. */
export function printGraphDot(graph: Graph): string {
  const lines = [
    `digraph "${graph.name}" {`,
    "  rankdir=TB;",
    '  node [shape=box, fontname="monospace"];',
  ];
  for (const node of graph.nodes) {
    const label =
      node.op === "input" || node.op === "weight"
        ? `${node.op} ${(node.attrs as { name: string }).name}`
        : `${node.op}${node.scope ? `\\n${node.scope}` : ""}`;
    const style =
      node.op === "weight" ? ", style=dashed" : node.op === "input" ? ", shape=ellipse" : "";
    lines.push(`  n${node.id} [label="${label}"${style}];`);
  }
  for (const node of graph.nodes) {
    for (const v of node.inputs) {
      const producer = graph.values[v]!.node;
      lines.push(`  n${producer} -> n${node.id} [label="${formatType(graph.values[v]!.type)}"];`);
    }
  }
  for (const o of graph.outputs) {
    lines.push(`  out_${o.name} [label="${o.name}", shape=ellipse];`);
    lines.push(`  n${graph.values[o.value]!.node} -> out_${o.name};`);
  }
  lines.push("}");
  return lines.join("\n") + "\n";
}
