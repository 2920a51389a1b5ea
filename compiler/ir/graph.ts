// The IR graph: SSA values produced by nodes in topological order. Plain data, JSON-friendly.
import type { Span } from "../../grammar/ast.js";
import { OPS, type OpAttrs, type OpName } from "./ops.js";
import type { Dim, TensorType } from "./types.js";

export interface Value {
  readonly id: number;
  readonly type: TensorType;
  /** The node that produces this value, and which of its outputs it is. */
  readonly node: number;
  readonly index: number;
}

export interface Node<K extends OpName = OpName> {
  readonly id: number;
  readonly op: K;
  readonly attrs: OpAttrs[K];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** Dotted path of the layer instance that made this node, e.g. `blocks.3.moe.gate`. */
  readonly scope: string;
  readonly span: Span;
}

/** One MoE routing site, whose statistics the runtime reports. */
export interface RoutingSite {
  readonly scope: string;
  readonly experts: number;
  readonly topK: number;
  /** Sub-tokens per token (MH-MoE heads); 1 for SMoE and fine-grained MoE. */
  readonly heads: number;
  /** Rows routed: tokens times heads (T·h). */
  readonly rows: Dim;
  /** Values of the route_stats node: counts [heads, E], top-1 [E], probability sums [E], dropped [heads]. */
  readonly counts: number;
  readonly top1: number;
  readonly probSum: number;
  readonly dropped: number;
}

export interface Graph {
  readonly name: string;
  readonly nodes: readonly Node[];
  readonly values: readonly Value[];
  readonly inputs: readonly { readonly name: string; readonly value: number }[];
  readonly outputs: readonly { readonly name: string; readonly value: number }[];
  readonly routing: readonly RoutingSite[];
}

/** Builds a graph node by node, checking shapes through the op table as it goes. */
export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly values: Value[] = [];
  readonly inputs: { name: string; value: number }[] = [];
  readonly outputs: { name: string; value: number }[] = [];
  readonly routing: RoutingSite[] = [];

  constructor(readonly name: string) {}

  /** Adds a node; throws ShapeError (from the op's shape rule) when the inputs do not fit. */
  add<K extends OpName>(
    op: K,
    inputs: readonly number[],
    attrs: OpAttrs[K],
    scope: string,
    span: Span,
    declaredTypes?: readonly TensorType[],
  ): number[] {
    const def = OPS[op];
    const types =
      declaredTypes ??
      def.infer(
        inputs.map((v) => this.values[v]!.type),
        attrs,
      );
    const id = this.nodes.length;
    const outputs = types.map((type, index) => {
      const value: Value = { id: this.values.length, type, node: id, index };
      this.values.push(value);
      return value.id;
    });
    this.nodes.push({ id, op, attrs, inputs: [...inputs], outputs, scope, span } as Node);
    return outputs;
  }

  type(value: number): TensorType {
    return this.values[value]!.type;
  }

  build(): Graph {
    return {
      name: this.name,
      nodes: this.nodes,
      values: this.values,
      inputs: this.inputs,
      outputs: this.outputs,
      routing: this.routing,
    };
  }
}

export function weightNodes(graph: Graph): Node<"weight">[] {
  return graph.nodes.filter((n): n is Node<"weight"> => n.op === "weight");
}

/**
 * The weights a graph declares (stacked expert tensors under their `{e}` names), in the form
 * runtime/weights.ts initialises: the same list a plan of this graph holds.
 */
export function weightDecls(graph: Graph): WeightDecl[] {
  return weightNodes(graph).map((node) => {
    const shape = graph.values[node.outputs[0]!]!.type.shape;
    if (!shape.every((d): d is number => typeof d === "number")) {
      throw new Error(`weight ${node.attrs.name} has a symbolic shape`);
    }
    return { name: node.attrs.name, shape, init: node.attrs.init, fanIn: node.attrs.fanIn };
  });
}

export interface WeightDecl {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: OpAttrs["weight"]["init"];
  readonly fanIn: number;
}
