// Reverse-mode differentiation over the IR. Walks a graph's nodes backwards and asks each op's
// gradient rule (in its op-table entry) for the cotangents of its inputs; the rules add ordinary
// IR nodes to the same graph. A value used several times gets its cotangents summed in reverse
// node order: a fixed order, so the backward graph, and the numbers it computes, are deterministic.
import { type Graph, GraphBuilder } from "../ir/graph.js";
import { type GradRule, OPS, type OpName } from "../ir/ops.js";

export class GradError extends Error {}

/** A builder holding a copy of graph's nodes, values, inputs, outputs and routing sites. */
export function builderFrom(graph: Graph, name = graph.name): GraphBuilder {
  const b = new GraphBuilder(name);
  b.nodes.push(...graph.nodes);
  b.values.push(...graph.values);
  b.inputs.push(...graph.inputs);
  b.outputs.push(...graph.outputs);
  b.routing.push(...graph.routing);
  return b;
}

/**
 * Adds to `b` the backward nodes that carry the cotangents `seeds` (value → the value holding its
 * cotangent) back to the `wrt` values, and returns each one's cotangent (undefined where no
 * gradient reaches it). Only the nodes present when called are differentiated.
 */
export function appendGradients(
  b: GraphBuilder,
  seeds: ReadonlyMap<number, number>,
  wrt: readonly number[],
): (number | undefined)[] {
  const forward = b.nodes.length;
  // A value needs a cotangent when it depends on a wrt value through float data.
  const needs = new Set<number>(wrt);
  for (const node of b.nodes.slice(0, forward)) {
    if (!node.inputs.some((v) => needs.has(v))) continue;
    for (const o of node.outputs) if (b.values[o]!.type.dtype !== "i32") needs.add(o);
  }
  const cotangent = new Map<number, number>(seeds);
  for (let i = forward - 1; i >= 0; i--) {
    const node = b.nodes[i]!;
    const dOutputs = node.outputs.map((o) => cotangent.get(o));
    const inputNeeds = node.inputs.map((v) => needs.has(v));
    if (dOutputs.every((d) => d === undefined) || !inputNeeds.some(Boolean)) continue;
    const rule = OPS[node.op].grad as GradRule<OpName> | undefined;
    if (!rule)
      throw new GradError(
        `op '${node.op}' (node ${node.id}${node.scope ? `, ${node.scope}` : ""}) has no gradient rule`,
      );
    const dInputs = rule({
      attrs: node.attrs,
      inputs: node.inputs,
      outputs: node.outputs,
      dOutputs,
      needs: inputNeeds,
      type: (v) => b.type(v),
      emit: (op, inputs, attrs) => b.add(op, inputs, attrs, node.scope, node.span),
    });
    node.inputs.forEach((v, k) => {
      const d = dInputs[k];
      if (d === undefined || !inputNeeds[k]) return;
      const previous = cotangent.get(v);
      cotangent.set(
        v,
        previous === undefined ? d : b.add("add", [previous, d], {}, node.scope, node.span)[0]!,
      );
    });
  }
  return wrt.map((v) => cotangent.get(v));
}
