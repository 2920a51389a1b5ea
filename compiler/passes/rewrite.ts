// A small graph rewriter shared by the passes: walks the source graph in order, copying nodes
// or emitting replacements, and remaps every value, output and routing site at the end.
import type { Span } from "../../grammar/ast.js";
import { type Graph, GraphBuilder, type Node, type RoutingSite } from "../ir/graph.js";
import type { OpAttrs, OpName } from "../ir/ops.js";
import type { TensorType } from "../ir/types.js";

export class Rewriter {
  readonly builder: GraphBuilder;
  readonly #map = new Map<number, number>();

  constructor(readonly source: Graph) {
    this.builder = new GraphBuilder(source.name);
  }

  /** The new id of a source value; the pass must have copied or replaced its producer. */
  value(old: number): number {
    const mapped = this.#map.get(old);
    if (mapped === undefined)
      throw new Error(`internal error: %${old} was dropped but is still used`);
    return mapped;
  }

  alias(old: number, replacement: number): void {
    this.#map.set(old, replacement);
  }

  copy(node: Node, types?: readonly TensorType[]): void {
    const outs = this.builder.add(
      node.op,
      node.inputs.map((v) => this.value(v)),
      node.attrs as OpAttrs[typeof node.op],
      node.scope,
      node.span,
      types ?? node.outputs.map((v) => this.source.values[v]!.type),
    );
    node.outputs.forEach((v, i) => this.#map.set(v, outs[i]!));
  }

  emit<K extends OpName>(
    op: K,
    inputs: readonly number[],
    attrs: OpAttrs[K],
    scope: string,
    span: Span,
  ): number[] {
    return this.builder.add(op, inputs, attrs, scope, span);
  }

  finish(): Graph {
    for (const i of this.source.inputs)
      this.builder.inputs.push({ name: i.name, value: this.value(i.value) });
    for (const o of this.source.outputs)
      this.builder.outputs.push({ name: o.name, value: this.value(o.value) });
    for (const site of this.source.routing) {
      const remapped: RoutingSite = {
        ...site,
        counts: this.value(site.counts),
        top1: this.value(site.top1),
        probSum: this.value(site.probSum),
        dropped: this.value(site.dropped),
      };
      this.builder.routing.push(remapped);
    }
    return this.builder.build();
  }
}

/** Which nodes read each value. */
export function consumers(graph: Graph): Map<number, Node[]> {
  const map = new Map<number, Node[]>();
  for (const node of graph.nodes) {
    for (const v of node.inputs) {
      const list = map.get(v);
      if (list) list.push(node);
      else map.set(v, [node]);
    }
  }
  return map;
}

const exported = new WeakMap<Graph, ReadonlySet<number>>();

/** Values that leave the graph: model outputs and routing statistics (computed once per graph). */
export function exportedValues(graph: Graph): ReadonlySet<number> {
  let out = exported.get(graph);
  if (!out) {
    const values = new Set(graph.outputs.map((o) => o.value));
    for (const s of graph.routing)
      for (const v of [s.counts, s.top1, s.probSum, s.dropped]) values.add(v);
    exported.set(graph, (out = values));
  }
  return out;
}

/** The only consumer of a value, when it has exactly one and does not leave the graph. */
export function soleConsumer(
  graph: Graph,
  uses: Map<number, Node[]>,
  value: number,
): Node | undefined {
  const list = uses.get(value) ?? [];
  if (list.length !== 1 || exportedValues(graph).has(value)) return undefined;
  return list[0];
}

export function producer(graph: Graph, value: number): Node {
  return graph.nodes[graph.values[value]!.node]!;
}
