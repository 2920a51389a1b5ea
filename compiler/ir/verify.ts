// Invariants of an IR graph, checked after lowering and between passes.
import type { Graph } from "./graph.js";
import { OPS } from "./ops.js";
import { formatType, shapeEquals } from "./types.js";

/** Returns the broken invariants; an empty list means the graph is well formed. */
export function verifyGraph(graph: Graph): string[] {
  const problems: string[] = [];
  const defined = new Set<number>();
  for (const [i, node] of graph.nodes.entries()) {
    if (node.id !== i) problems.push(`node ${i} has id ${node.id}`);
    const def = OPS[node.op];
    if (!def) {
      problems.push(`node ${i}: unknown op ${node.op}`);
      continue;
    }
    const [min, max] = def.arity;
    if (node.inputs.length < min || node.inputs.length > max)
      problems.push(
        `node ${i} (${node.op}): ${node.inputs.length} inputs, expected ${min}..${max}`,
      );
    for (const v of node.inputs)
      if (!defined.has(v)) problems.push(`node ${i} (${node.op}) uses %${v} before it is defined`);
    if (node.op !== "input" && node.op !== "weight") {
      try {
        const types = (
          def.infer as (t: unknown, a: unknown) => { dtype: string; shape: never[] }[]
        )(
          node.inputs.map((v) => graph.values[v]!.type),
          node.attrs,
        );
        types.forEach((t, k) => {
          const actual = graph.values[node.outputs[k]!]!.type;
          if (t.dtype !== actual.dtype || !shapeEquals(t.shape, actual.shape))
            problems.push(
              `node ${i} (${node.op}) output ${k} is ${formatType(actual)}, its shape rule gives ${formatType(t as never)}`,
            );
        });
      } catch (e) {
        problems.push(`node ${i} (${node.op}): ${(e as Error).message}`);
      }
    }
    for (const [k, v] of node.outputs.entries()) {
      const value = graph.values[v];
      if (!value || value.node !== i || value.index !== k)
        problems.push(`node ${i}: output ${k} (%${v}) does not point back to it`);
      defined.add(v);
    }
  }
  for (const o of [...graph.outputs, ...graph.inputs])
    if (!defined.has(o.value)) problems.push(`'${o.name}' refers to undefined %${o.value}`);
  return problems;
}
