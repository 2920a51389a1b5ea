// Training losses and their gradients: softmax cross-entropy over the vocabulary (mean over
// positions) and the GShard load-balancing term of each router (design.md section 4). Losses are
// f32[1]; `fill` makes the constant 1 that seeds reverse-mode differentiation.
import { formatType } from "../types.js";
import type { OpFamily, RefTensor } from "./def.js";
import { bytesOf, elementwiseCost, expect, numel, rank, tensor } from "./helpers.js";

export const LOSS_OPS: OpFamily<
  "fill" | "cross_entropy" | "cross_entropy_grad" | "balance_loss" | "balance_loss_grad"
> = {
  /** A constant f32 tensor (the seed 1 of the loss; zero gradients of unused weights). */
  fill: {
    arity: [0, 0],
    infer: (_, { shape }) => [{ dtype: "f32", shape }],
    cost: (_, [y]) => ({ macs: 0, flops: 0, bytes: bytesOf(y!) }),
    evaluate: (_, { value, shape }) => [tensor(shape, new Float64Array(numel(shape)).fill(value))],
  },

  /** Mean over positions t of −log softmax(logits[t])[targets[t]]. */
  cross_entropy: {
    arity: [2, 2],
    infer: ([logits, targets]) => {
      rank(logits!, 2, "cross-entropy logits");
      expect(
        targets!.dtype === "i32" && targets!.shape.length === 1,
        `cross-entropy targets must be i32[T], got ${formatType(targets!)}`,
      );
      return [{ dtype: "f32", shape: [1] }];
    },
    cost: ([logits]) => ({ macs: 0, flops: 4 * numel(logits!), bytes: bytesOf(logits!) }),
    evaluate: ([logits, targets]) => {
      const [t, v] = logits!.shape as [number, number];
      let total = 0;
      for (let r = 0; r < t; r++) {
        const { lse } = logSumExp(logits!, r, v);
        total += lse - logits!.data[r * v + target(targets!, r, v)]!;
      }
      return [tensor([1], Float64Array.of(total / t))];
    },
    grad: ({ inputs: [logits, targets], dOutputs: [dloss], emit }) => [
      emit("cross_entropy_grad", [logits!, targets!, dloss!], {})[0],
      undefined,
    ],
  },

  /** dLogits = (softmax(logits) − onehot(targets)) · dloss / T. */
  cross_entropy_grad: {
    arity: [3, 3],
    infer: ([logits]) => [logits!],
    cost: elementwiseCost(4),
    evaluate: ([logits, targets, dloss]) => {
      const [t, v] = logits!.shape as [number, number];
      const dl = tensor(logits!.shape);
      const scale = dloss!.data[0]! / t;
      for (let r = 0; r < t; r++) {
        const { lse } = logSumExp(logits!, r, v);
        for (let c = 0; c < v; c++)
          dl.data[r * v + c] = Math.exp(logits!.data[r * v + c]! - lse) * scale;
        dl.data[r * v + target(targets!, r, v)]! -= scale;
      }
      return [dl];
    },
  },

  /**
   * coef · E · Σ_e f_e · P_e over N routed rows: f_e the share of rows whose first choice is e
   * (not differentiable), P_e the mean router probability of e. Inputs (expert ids, probs).
   */
  balance_loss: {
    arity: [2, 2],
    infer: ([expert, probs], { experts }) => {
      expect(expert!.dtype === "i32", "balance_loss takes the router's expert ids");
      expect(probs!.shape[1] === experts, "balance_loss: probabilities must cover every expert");
      return [{ dtype: "f32", shape: [1] }];
    },
    cost: ([e, p]) => ({ macs: 0, flops: 2 * numel(p!), bytes: bytesOf(e!, p!) }),
    evaluate: ([expert, probs], { experts, coef }) => {
      const n = probs!.shape[0]!;
      const f = topOneShares(expert!, experts);
      let loss = 0;
      for (let r = 0; r < n; r++)
        for (let e = 0; e < experts; e++) loss += f[e]! * probs!.data[r * experts + e]!;
      return [tensor([1], Float64Array.of((coef * experts * loss) / n))];
    },
    grad: ({ inputs: [expert], dOutputs: [dloss], attrs, emit }) => [
      undefined,
      emit("balance_loss_grad", [expert!, dloss!], attrs)[0],
    ],
  },

  /** dProbs[r, e] = dloss · coef · E · f_e / N. Inputs (expert ids, dloss). */
  balance_loss_grad: {
    arity: [2, 2],
    infer: ([expert], { experts }) => [{ dtype: "f32", shape: [expert!.shape[0]!, experts] }],
    cost: (ins, outs) => elementwiseCost(1)(ins, outs),
    evaluate: ([expert, dloss], { experts, coef }) => {
      const n = expert!.shape[0]!;
      const f = topOneShares(expert!, experts);
      const dp = tensor([n, experts]);
      const scale = (dloss!.data[0]! * coef * experts) / n;
      for (let r = 0; r < n; r++)
        for (let e = 0; e < experts; e++) dp.data[r * experts + e] = scale * f[e]!;
      return [dp];
    },
  },
};

function target(targets: RefTensor, r: number, vocab: number): number {
  const id = targets.data[r]!;
  if (!(id >= 0 && id < vocab))
    throw new RangeError(
      `target id ${id} at position ${r} is outside the vocabulary [0, ${vocab})`,
    );
  return id;
}

function logSumExp(logits: RefTensor, r: number, v: number): { lse: number } {
  let max = -Infinity;
  for (let c = 0; c < v; c++) max = Math.max(max, logits.data[r * v + c]!);
  let sum = 0;
  for (let c = 0; c < v; c++) sum += Math.exp(logits.data[r * v + c]! - max);
  return { lse: max + Math.log(sum) };
}

/** f_e: the share of rows whose first choice is expert e. */
function topOneShares(expert: RefTensor, experts: number): Float64Array {
  const [n, k] = expert.shape as [number, number];
  const f = new Float64Array(experts);
  for (let r = 0; r < n; r++) f[expert.data[r * k]!]!++;
  return f.map((count) => count / n);
}
