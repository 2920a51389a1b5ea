// Common-subexpression elimination: two nodes with the same op, attributes and inputs compute
// the same values (every op is pure), so the later one reuses the earlier one's outputs.
import type { Graph } from "../ir/graph.js";
import { Rewriter } from "./rewrite.js";

export function eliminateCommonSubexpressions(graph: Graph): Graph {
  const rw = new Rewriter(graph);
  const seen = new Map<string, readonly number[]>();
  for (const node of graph.nodes) {
    if (node.op === "input" || node.op === "weight") {
      rw.copy(node);
      continue;
    }
    const key = `${node.op}|${JSON.stringify(node.attrs)}|${node.inputs.map((v) => rw.value(v)).join(",")}`;
    const earlier = seen.get(key);
    if (earlier) {
      node.outputs.forEach((v, i) => rw.alias(v, rw.value(earlier[i]!)));
      continue;
    }
    rw.copy(node);
    seen.set(key, node.outputs);
  }
  return rw.finish();
}
