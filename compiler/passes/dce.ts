// Dead-code elimination: drops nodes whose values reach no output and no routing statistic.
// Inputs and weights stay: they are the model's interface and weight-name contract.
import type { Graph } from "../ir/graph.js";
import { Rewriter, exportedValues } from "./rewrite.js";

export function eliminateDeadCode(graph: Graph): Graph {
  const live = new Set(exportedValues(graph));
  const keep = new Set<number>();
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i]!;
    if (node.op === "input" || node.op === "weight" || node.outputs.some((v) => live.has(v))) {
      keep.add(i);
      for (const v of node.inputs) live.add(v);
    }
  }
  if (keep.size === graph.nodes.length) return graph;
  const rw = new Rewriter(graph);
  for (const node of graph.nodes) if (keep.has(node.id)) rw.copy(node);
  return rw.finish();
}
