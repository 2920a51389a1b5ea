// Shape specialisation: binds symbolic dims (T) to numbers when the caller fixes them, so later
// stages can size buffers and pick tiles statically.
import type { Graph } from "../ir/graph.js";
import { type Dim, type DimBindings, type TensorType } from "../ir/types.js";
import { Rewriter } from "./rewrite.js";

export function specializeShapes(graph: Graph, bindings: DimBindings): Graph {
  if (Object.keys(bindings).length === 0) return graph;
  const bind = (d: Dim): Dim =>
    typeof d === "number" || bindings[d.sym] === undefined ? d : d.coef * bindings[d.sym]!;
  const rw = new Rewriter(graph);
  for (const node of graph.nodes) {
    const types: TensorType[] = node.outputs.map((v) => {
      const t = graph.values[v]!.type;
      return { dtype: t.dtype, shape: t.shape.map(bind) };
    });
    rw.copy(node, types);
  }
  const specialised = rw.finish();
  // Routing sites count their rows too (the statistics' S): bound like every shape.
  return {
    ...specialised,
    routing: specialised.routing.map((s) => ({ ...s, rows: bind(s.rows) })),
  };
}
