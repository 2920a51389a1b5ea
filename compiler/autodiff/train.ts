// The training graph of a language model: its forward graph, the loss (softmax cross-entropy
// over the vocabulary plus the GShard load-balancing term of every router), and the backward
// graph that yields the gradient of every weight. All of it ordinary IR, verified like any graph.
import type { Span } from "../../grammar/ast.js";
import { type Graph, type Node, weightNodes } from "../ir/graph.js";
import { dimEquals, formatType } from "../ir/types.js";
import { verifyGraph } from "../ir/verify.js";
import { GradError, appendGradients, builderFrom } from "./grad.js";
import { straightThrough } from "./straightThrough.js";

/** The load-balancing loss coefficient of 2404.15045 (and GShard). */
export const BALANCE_COEF = 1e-2;

export interface LossOptions {
  readonly balanceCoef?: number;
}

/** The output name of a weight's gradient in a training graph. */
export const gradName = (weight: string): string => `grad.${weight}`;

/**
 * forward (token ids → logits [T, V]) plus an input `targets: i32[T]` and the outputs `loss`
 * (cross-entropy + Σ routers' balance terms) and `ce_loss` (cross-entropy alone).
 */
export function lossGraph(lowered: Graph, options: LossOptions = {}): Graph {
  const forward = straightThrough(lowered);
  const coef = options.balanceCoef ?? BALANCE_COEF;
  const lm = "training needs a language model: token ids i32[T] in, logits f32[T, vocab] out";
  const signature = (io: Graph["inputs"]) =>
    io.map((i) => `${i.name}: ${formatType(forward.values[i.value]!.type)}`).join(", ");
  const ids =
    forward.inputs.length === 1 ? forward.values[forward.inputs[0]!.value]!.type : undefined;
  if (!ids || ids.dtype !== "i32" || ids.shape.length !== 1)
    throw new GradError(`${lm}; ${forward.name} takes (${signature(forward.inputs)})`);
  const type =
    forward.outputs.length === 1 ? forward.values[forward.outputs[0]!.value]!.type : undefined;
  if (
    !type ||
    type.shape.length !== 2 ||
    type.dtype === "i32" ||
    !dimEquals(type.shape[0]!, ids.shape[0]!)
  )
    throw new GradError(`${lm}; ${forward.name} returns (${signature(forward.outputs)})`);
  const logits = forward.outputs[0]!.value;
  const span = spanOf(forward, logits);
  const b = builderFrom(forward);
  b.outputs.length = 0;
  const [targets] = b.add("input", [], { name: "targets" }, "", span, [
    { dtype: "i32", shape: [type.shape[0]!] },
  ]);
  b.inputs.push({ name: "targets", value: targets! });
  const ce = b.add("cross_entropy", [logits, targets!], {}, "loss", span)[0]!;
  let total = ce;
  for (const site of forward.routing) {
    const stats = forward.nodes.find((n) => n.outputs.includes(site.counts)) as
      Node<"route_stats"> | undefined;
    if (!stats) throw new GradError(`routing site ${site.scope} has no statistics node`);
    const [routed, , probs] = stats.inputs;
    const term = b.add(
      "balance_loss",
      [routed!, probs!],
      { experts: site.experts, coef },
      site.scope,
      stats.span,
    )[0]!;
    total = b.add("add", [total, term], {}, "loss", span)[0]!;
  }
  b.outputs.push({ name: "loss", value: total }, { name: "ce_loss", value: ce });
  return checked(b.build(), "the loss");
}

/** lossGraph plus the gradient of `loss` with respect to every weight, as outputs `grad.NAME`. */
export function trainingGraph(forward: Graph, options: LossOptions = {}): Graph {
  const withLoss = lossGraph(forward, options);
  const b = builderFrom(withLoss);
  const loss = withLoss.outputs[0]!.value;
  const span = spanOf(withLoss, loss);
  const [seed] = b.add("fill", [], { value: 1, shape: [1] }, "loss", span);
  const weights = weightNodes(withLoss);
  const grads = appendGradients(
    b,
    new Map([[loss, seed!]]),
    weights.map((w) => w.outputs[0]!),
  );
  weights.forEach((w, i) => {
    const shape = b.type(w.outputs[0]!).shape as number[];
    // A weight the loss does not depend on gets a zero gradient (AdamW still decays it).
    const g = grads[i] ?? b.add("fill", [], { value: 0, shape }, w.scope, w.span)[0]!;
    b.outputs.push({ name: gradName(w.attrs.name), value: g });
  });
  return checked(b.build(), "differentiation");
}

function spanOf(graph: Graph, value: number): Span {
  return graph.nodes[graph.values[value]!.node]!.span;
}

function checked(graph: Graph, what: string): Graph {
  const problems = verifyGraph(graph);
  if (problems.length > 0)
    throw new Error(`internal error: ${what} produced an invalid graph:\n${problems.join("\n")}`);
  return graph;
}
