// Routing: the router's top-k and gates, the capacity limit, and the routing statistics.
import { formatDim } from "../types.js";
import type { Gating, OpFamily, RefTensor } from "./def.js";
import { bytesOf, expect, numel, rank, tensor } from "./helpers.js";
import { topKIndices } from "./math.js";

export const ROUTING_OPS: OpFamily<"route" | "capacity" | "route_stats"> = {
  route: {
    arity: [1, 1],
    infer: ([logits], { topK }) => {
      rank(logits!, 2, "router logits");
      const experts = logits!.shape[1]!;
      expect(
        typeof experts === "number" && topK >= 1 && topK <= experts,
        `top_k must be between 1 and the number of experts (${formatDim(experts)}), got ${topK}`,
      );
      const n = logits!.shape[0]!;
      return [
        { dtype: "i32", shape: [n, topK] },
        { dtype: "f32", shape: [n, topK] },
        { dtype: "f32", shape: [n, experts] },
      ];
    },
    cost: ([logits]) => ({ macs: 0, flops: 4 * numel(logits!), bytes: 2 * bytesOf(logits!) }),
    evaluate: ([logits], { topK, gating }) => routeReference(logits!, topK, gating),
    grad: ({ outputs: [expert, gate, probs], dOutputs: [, dgate, dprobs], attrs, emit }) => {
      // Lowering always feeds the gates to the experts, so they always carry a gradient.
      expect(dgate !== undefined, "cannot differentiate a router whose gates are unused");
      const ins = [expert!, gate!, probs!, dgate, ...(dprobs === undefined ? [] : [dprobs])];
      return emit("route_grad", ins, attrs);
    },
  },

  capacity: {
    arity: [2, 2],
    infer: ([expert, gate]) => {
      expect(
        expert!.dtype === "i32" && gate!.dtype !== "i32",
        "capacity takes expert ids and gates",
      );
      return [expert!, gate!];
    },
    cost: ([e]) => ({ macs: 0, flops: numel(e!), bytes: 4 * bytesOf(e!) }),
    evaluate: ([expert, gate], { experts, factor }) =>
      capacityReference(expert!, gate!, experts, factor),
    grad: ({ outputs: [kept], dOutputs: [, dgate], emit }) => [
      undefined,
      dgate === undefined ? undefined : emit("capacity_grad", [kept!, dgate], {})[0],
    ],
  },

  route_stats: {
    arity: [3, 3],
    infer: ([, , probs], { experts, heads }) => {
      expect(probs!.shape[1] === experts, "route_stats: probabilities must cover every expert");
      return [
        { dtype: "i32", shape: [heads, experts] },
        { dtype: "i32", shape: [experts] },
        { dtype: "f32", shape: [experts] },
        { dtype: "i32", shape: [heads] },
      ];
    },
    cost: ([e, , p]) => ({ macs: 0, flops: numel(p!), bytes: bytesOf(e!, e!, p!) }),
    evaluate: ([routed, kept, probs], { experts, heads }) =>
      statsReference(routed!, kept!, probs!, experts, heads),
  },
};

function routeReference(logits: RefTensor, topK: number, gating: Gating): RefTensor[] {
  const [n, experts] = logits.shape as [number, number];
  const expert = tensor([n, topK]);
  const gate = tensor([n, topK]);
  const probs = tensor([n, experts]);
  for (let r = 0; r < n; r++) {
    const row = logits.data.subarray(r * experts, (r + 1) * experts);
    const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
    let sum = 0;
    for (let e = 0; e < experts; e++) sum += probs.data[r * experts + e] = Math.exp(row[e]! - max);
    for (let e = 0; e < experts; e++) probs.data[r * experts + e]! /= sum;
    const p = probs.data.subarray(r * experts, (r + 1) * experts);
    const chosen = topKIndices(p, topK);
    // softmax over the kept logits equals the kept probabilities renormalised (Mixtral = GShard).
    const keptSum = gating === "softmax" ? 1 : chosen.reduce((s, e) => s + p[e]!, 0);
    chosen.forEach((e, j) => {
      expert.data[r * topK + j] = e;
      gate.data[r * topK + j] = p[e]! / keptSum;
    });
  }
  return [expert, gate, probs];
}

/** Capacity C = ceil(factor * k * ceil(S / E)); all first choices are placed before any second. */
export function expertCapacity(
  rowsRouted: number,
  topK: number,
  experts: number,
  factor: number,
): number {
  return Math.ceil(factor * topK * Math.ceil(rowsRouted / experts));
}

/** Expert ids after the capacity limit (-1 = dropped), in the official order. */
export function keptExperts(expert: RefTensor, experts: number, factor: number): RefTensor {
  const [n, k] = expert.shape as [number, number];
  const capacity = expertCapacity(n, k, experts, factor);
  const kept = tensor(expert.shape, expert.data.slice());
  const load = new Array<number>(experts).fill(0);
  for (let j = 0; j < k; j++) {
    for (let r = 0; r < n; r++) {
      const e = expert.data[r * k + j]!;
      if (load[e]! < capacity) load[e]!++;
      else kept.data[r * k + j] = -1;
    }
  }
  return kept;
}

function capacityReference(
  expert: RefTensor,
  gate: RefTensor,
  experts: number,
  factor: number,
): RefTensor[] {
  const kept = keptExperts(expert, experts, factor);
  return [
    kept,
    tensor(
      gate.shape,
      gate.data.map((g, a) => (kept.data[a]! < 0 ? 0 : g)),
    ),
  ];
}

export function emptyProbs(rows: number, experts: number): RefTensor {
  return tensor([rows, experts]);
}

export function statsReference(
  routed: RefTensor,
  kept: RefTensor,
  probs: RefTensor,
  experts: number,
  heads: number,
): RefTensor[] {
  const [n, k] = kept.shape as [number, number];
  const counts = tensor([heads, experts]);
  const top1 = tensor([experts]);
  const probSum = tensor([experts]);
  const dropped = tensor([heads]);
  for (let r = 0; r < n; r++) {
    const head = r % heads;
    top1.data[routed.data[r * k]!]!++;
    for (let j = 0; j < k; j++) {
      const e = kept.data[r * k + j]!;
      if (e < 0) dropped.data[head]!++;
      else counts.data[head * experts + e]!++;
    }
    for (let e = 0; e < experts; e++) probSum.data[e]! += probs.data[r * experts + e]!;
  }
  return [counts, top1, probSum, dropped];
}
