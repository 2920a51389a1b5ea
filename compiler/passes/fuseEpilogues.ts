// Epilogue fusion: elementwise work that only consumes a linear's output runs in that linear's
// kernel: the activation, the residual add, and the gate ⊙ up product of a gated FFN.
import type { Graph, Node } from "../ir/graph.js";
import type { Activation } from "../ir/ops.js";
import { Rewriter, consumers, producer, soleConsumer } from "./rewrite.js";

export function fuseEpilogues(graph: Graph): Graph {
  const uses = consumers(graph);
  const rw = new Rewriter(graph);
  const absorbed = new Set<number>(); // nodes folded into a later node's fused op

  const singleUseLinear = (value: number): Node | undefined => {
    const p = producer(graph, value);
    return p.op === "linear" && soleConsumer(graph, uses, value) ? p : undefined;
  };

  // Decide first which producers get absorbed, so they are skipped when reached.
  for (const node of graph.nodes) {
    if (node.op === "mul") {
      const glu = matchGlu(graph, uses, node);
      if (glu) [glu.gate.id, glu.act.id, glu.up.id].forEach((id) => absorbed.add(id));
    } else if (node.op === "activation") {
      const lin = singleUseLinear(node.inputs[0]!);
      if (lin && !absorbed.has(lin.id)) absorbed.add(lin.id);
    } else if (node.op === "add") {
      const lin = node.inputs.map(singleUseLinear).find((l) => l && !absorbed.has(l.id));
      if (lin && node.inputs[0] !== node.inputs[1]) absorbed.add(lin.id);
    }
  }

  for (const node of graph.nodes) {
    if (absorbed.has(node.id)) continue;
    if (node.op === "mul") {
      const glu = matchGlu(graph, uses, node);
      if (glu) {
        const [y] = rw.emit(
          "linear_glu",
          [glu.x, glu.gate.inputs[1]!, glu.up.inputs[1]!].map((v) => rw.value(v)),
          { act: glu.fn },
          node.scope,
          node.span,
        );
        rw.alias(node.outputs[0]!, y!);
        continue;
      }
    }
    if (node.op === "activation" && absorbed.has(producer(graph, node.inputs[0]!).id)) {
      const lin = producer(graph, node.inputs[0]!);
      const bias = lin.inputs.length === 3;
      const [y] = rw.emit(
        "linear_epilogue",
        lin.inputs.map((v) => rw.value(v)),
        { bias, act: (node.attrs as { fn: Activation }).fn, residual: false },
        lin.scope,
        node.span,
      );
      rw.alias(node.outputs[0]!, y!);
      continue;
    }
    if (node.op === "add") {
      const index = node.inputs.findIndex(
        (v) => absorbed.has(producer(graph, v).id) && producer(graph, v).op === "linear",
      );
      if (index >= 0) {
        const lin = producer(graph, node.inputs[index]!);
        const residual = node.inputs[1 - index]!;
        const bias = lin.inputs.length === 3;
        const [y] = rw.emit(
          "linear_epilogue",
          [...lin.inputs, residual].map((v) => rw.value(v)),
          { bias, act: "none", residual: true },
          lin.scope,
          node.span,
        );
        rw.alias(node.outputs[0]!, y!);
        continue;
      }
    }
    rw.copy(node);
  }
  return rw.finish();
}

/** mul(act(linear(x, Wg)), linear(x, Wu)), both linears bias-free and used once. */
function matchGlu(graph: Graph, uses: Map<number, Node[]>, mul: Node) {
  const [a, b] = mul.inputs.map((v) => producer(graph, v));
  for (const [actNode, up] of [
    [a, b],
    [b, a],
  ] as const) {
    if (actNode?.op !== "activation" || up?.op !== "linear" || up.inputs.length !== 2) continue;
    const gate = producer(graph, actNode.inputs[0]!);
    if (gate.op !== "linear" || gate.inputs.length !== 2 || gate.inputs[0] !== up.inputs[0])
      continue;
    if (
      !soleConsumer(graph, uses, gate.outputs[0]!) ||
      !soleConsumer(graph, uses, actNode.outputs[0]!) ||
      !soleConsumer(graph, uses, up.outputs[0]!)
    )
      continue;
    return {
      x: up.inputs[0]!,
      gate,
      up,
      act: actNode,
      fn: (actNode.attrs as { fn: Activation }).fn,
    };
  }
  return undefined;
}
