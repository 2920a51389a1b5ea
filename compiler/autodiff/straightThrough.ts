// BitNet b1.58 layers in a training graph. Inference binds ternary (t2) weights and feeds int8
// activations to integer kernels; neither can learn: a ternary value has no small step, and an
// integer has no gradient. So training keeps an f32 master of every ternary weight, under the same
// name (checkpoints hold masters, which inference quantises at load), and rewrites each layer to
// its "fake quantised" f32 form (ir/ops/bitnetSte.ts), as BitNet's training code does:
//   act_quant(x) → act_quant_ste(x)                        (= q · scale, the values the ints stand for)
//   t2 weight W  → f32 weight W, weight_quant_ste(W)       (= γ · RoundClip(W/γ), one γ per matrix)
//   bitlinear / bit_expert_up / bit_expert_down → linear / expert_up / expert_down on those values.
// The forward numbers are the inference ops' (up to f32 rounding order), and the gradient rules of
// the f32 ops plus the straight-through estimator give BitNet's gradients.
import { type Graph, GraphBuilder, type Node } from "../ir/graph.js";

const QUANTISED = new Set(["act_quant", "bitlinear", "bit_expert_up", "bit_expert_down"]);

/** True when graph has BitNet layers (ternary weights or int8 activations). */
export function hasBitNetLayers(graph: Graph): boolean {
  return graph.nodes.some(
    (n) =>
      QUANTISED.has(n.op) ||
      (n.op === "weight" && graph.values[n.outputs[0]!]!.type.dtype === "t2"),
  );
}

/** graph with its BitNet layers in their trainable form; graph itself when it has none. */
export function straightThrough(graph: Graph): Graph {
  if (!hasBitNetLayers(graph)) return graph;
  const b = new GraphBuilder(graph.name);
  /** Old value → new value; an int8 activation maps to its dequantised f32 values. */
  const map = new Map<number, number>();
  const at = (v: number) => {
    const mapped = map.get(v);
    if (mapped === undefined) throw new Error(`internal error: value ${v} used before its rewrite`);
    return mapped;
  };
  for (const node of graph.nodes) {
    const emit = (op: Node["op"], inputs: number[], attrs: object) =>
      b.add(op, inputs, attrs as never, node.scope, node.span);
    // The quantised ops take (int8 values, their scales, ...): the f32 ops take (values, ...).
    const values = () => [at(node.inputs[0]!), ...node.inputs.slice(2).map(at)];
    let outs: number[];
    switch (node.op) {
      case "weight": {
        const type = graph.values[node.outputs[0]!]!.type;
        if (type.dtype !== "t2") {
          outs = b.add("weight", [], node.attrs as never, node.scope, node.span, [type]);
          break;
        }
        const [master] = b.add("weight", [], node.attrs as never, node.scope, node.span, [
          { ...type, dtype: "f32" },
        ]);
        outs = emit("weight_quant_ste", [master!], {});
        break;
      }
      case "act_quant":
        // The scale output has no counterpart: only the quantised ops below read it.
        outs = emit("act_quant_ste", [at(node.inputs[0]!)], {});
        break;
      case "bitlinear":
        outs = emit("linear", values(), {});
        break;
      case "bit_expert_up":
        outs = emit("expert_up", values(), node.attrs);
        break;
      case "bit_expert_down":
        outs = emit("expert_down", values(), node.attrs);
        break;
      default:
        outs = b.add(
          node.op,
          node.inputs.map(at),
          node.attrs as never,
          node.scope,
          node.span,
          node.outputs.map((o) => graph.values[o]!.type),
        );
    }
    outs.forEach((v, k) => map.set(node.outputs[k]!, v));
  }
  b.inputs.push(...graph.inputs.map((i) => ({ name: i.name, value: at(i.value) })));
  b.outputs.push(...graph.outputs.map((o) => ({ name: o.name, value: at(o.value) })));
  b.routing.push(
    ...graph.routing.map((site) => ({
      ...site,
      counts: at(site.counts),
      top1: at(site.top1),
      probSum: at(site.probSum),
      dropped: at(site.dropped),
    })),
  );
  return b.build();
}
