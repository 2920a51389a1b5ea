// Algebraic simplification of views: join(split(x, h), h) and split(join(x, h), h) are x.
// Runs before fusion so the MoE patterns see the plain data flow.
import type { Graph } from "../ir/graph.js";
import { Rewriter, producer } from "./rewrite.js";

export function simplify(graph: Graph): Graph {
  const rw = new Rewriter(graph);
  for (const node of graph.nodes) {
    if (node.op === "split" || node.op === "join") {
      const inner = producer(graph, node.inputs[0]!);
      const inverse = node.op === "split" ? "join" : "split";
      const heads = (node.attrs as { heads: number }).heads;
      if (inner.op === inverse && (inner.attrs as { heads: number }).heads === heads) {
        rw.alias(node.outputs[0]!, rw.value(inner.inputs[0]!));
        continue;
      }
      if (heads === 1) {
        rw.alias(node.outputs[0]!, rw.value(node.inputs[0]!));
        continue;
      }
    }
    rw.copy(node);
  }
  return rw.finish();
}
