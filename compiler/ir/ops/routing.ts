// Routing: the router's top-k and gates, X-MoE's cosine logits, the capacity limit, and the
// routing statistics.
import { type CapacityLimit, keptExpertIds } from "../../../plan/capacity.js";
import { formatDim } from "../types.js";
import type { Gating, OpAttrs, OpFamily, RefTensor } from "./def.js";
import { bytesOf, expect, numel, rank, tensor } from "./helpers.js";
import { topKIndices } from "./math.js";

/**
 * X-MoE's cosine router (Chi et al. 2022, as in its code): a vector v is normalised as
 * v / max(|v|, COSINE_EPS), and the learnable temperature is floored at MIN_TEMPERATURE.
 */
export const COSINE_EPS = 1e-4;
export const MIN_TEMPERATURE = 1e-4;

/** DeepSeek-V3's router renormalises its gates as s / (Σ s + ε), with this ε (its code's). */
export const GROUPED_RENORM_EPS = 1e-20;

export const ROUTING_OPS: OpFamily<
  "route" | "route_grouped" | "cosine_logits" | "capacity" | "route_stats"
> = {
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

  route_grouped: {
    arity: [1, 2],
    infer: ([logits, bias], { topK, groups, topkGroups }) => {
      rank(logits!, 2, "router logits");
      const experts = logits!.shape[1]!;
      expect(typeof experts === "number", "the router's expert count must be a number");
      const e = experts as number;
      expect(
        topK >= 1 && topK <= e,
        `top_k must be between 1 and the number of experts (${e}), got ${topK}`,
      );
      expect(
        groups >= 1 && e % groups === 0 && (groups === 1 || e / groups >= 2),
        `${groups} expert groups must divide the ${e} experts into groups of at least 2`,
      );
      expect(
        topkGroups >= 1 && topkGroups <= groups && topK <= topkGroups * (e / groups),
        `topk_groups must be from 1 to ${groups} and keep at least top_k (${topK}) experts, got ${topkGroups}`,
      );
      if (bias)
        expect(
          bias.shape.length === 1 && bias.shape[0] === e,
          `the selection bias must have one entry per expert (${e})`,
        );
      const n = logits!.shape[0]!;
      return [
        { dtype: "i32", shape: [n, topK] },
        { dtype: "f32", shape: [n, topK] },
        { dtype: "f32", shape: [n, e] },
      ];
    },
    cost: ([logits]) => ({ macs: 0, flops: 8 * numel(logits!), bytes: 2 * bytesOf(logits!) }),
    evaluate: ([logits, bias], attrs) => groupedRouteReference(logits!, bias, attrs),
    // The selection (and so the bias, which only selects) is piecewise constant: no gradient.
    grad: ({
      inputs: [logits],
      outputs: [expert, , probs],
      dOutputs: [, dgate, dprobs],
      attrs,
      emit,
    }) => {
      expect(dgate !== undefined, "cannot differentiate a router whose gates are unused");
      const { topK, renorm, scale } = attrs;
      const ins = [logits!, expert!, dgate, ...(dprobs === undefined ? [] : [probs!, dprobs])];
      return [emit("route_grouped_grad", ins, { topK, renorm, scale })[0], undefined];
    },
  },

  cosine_logits: {
    arity: [3, 3],
    infer: ([h, emb, tau]) => {
      rank(h!, 2, "projected router input");
      rank(emb!, 2, "expert embeddings");
      expect(
        h!.shape[1] === emb!.shape[1],
        `expert embeddings of width ${formatDim(emb!.shape[1]!)} need rows of that width, got ${formatDim(h!.shape[1]!)}`,
      );
      expect(tau!.shape.length === 1 && tau!.shape[0] === 1, "the temperature is one number");
      return [{ dtype: "f32", shape: [h!.shape[0]!, emb!.shape[0]!] }];
    },
    cost: ([h, emb], [logits]) => {
      const macs = numel(logits!) * h![1]!;
      // Dot products, plus the two norms and the division per logit.
      return {
        macs,
        flops: 2 * macs + 2 * numel(h!) + 2 * numel(emb!) + 3 * numel(logits!),
        bytes: bytesOf(h!, emb!, logits!),
      };
    },
    evaluate: ([h, emb, tau]) => [cosineLogitsReference(h!, emb!, tau!.data[0]!)],
    // The exact gradient, clamps included (ops/cosineGrad.ts).
    grad: ({ inputs: [h, emb, tau], outputs: [logits], dOutputs: [dlogits], emit }) =>
      dlogits === undefined
        ? []
        : emit("cosine_logits_grad", [h!, emb!, tau!, logits!, dlogits], {}),
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
    evaluate: ([expert, gate], { experts, rule, capacity, admit }) =>
      capacityReference(expert!, gate!, experts, { rule, capacity, admit }),
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
    // Sigmoid gating scores each expert on its own (probs stay the softmax, for the statistics).
    // Its top k are taken on the logits: the same order as on sigmoid(logits), which saturates.
    const sigmoid = gating === "sigmoid";
    const scores = sigmoid ? Array.from(row, (l) => 1 / (1 + Math.exp(-l))) : p;
    const chosen = topKIndices(sigmoid ? row : p, topK);
    // softmax over the kept logits equals the kept probabilities renormalised (Mixtral = GShard).
    const renorm = gating === "renorm" || gating === "softmax_topk";
    const keptSum = renorm ? chosen.reduce((s, e) => s + p[e]!, 0) : 1;
    chosen.forEach((e, j) => {
      expert.data[r * topK + j] = e;
      gate.data[r * topK + j] = scores[e]! / keptSum;
    });
  }
  return [expert, gate, probs];
}

function groupedRouteReference(
  logits: RefTensor,
  bias: RefTensor | undefined,
  { topK, groups, topkGroups, renorm, scale }: OpAttrs["route_grouped"],
): RefTensor[] {
  const [n, experts] = logits.shape as [number, number];
  const size = experts / groups;
  const [expert, gate] = [tensor([n, topK]), tensor([n, topK])];
  // The statistics' probabilities stay the softmax, as for every other gating.
  const [, , probs] = routeReference(logits, 1, "softmax");
  for (let r = 0; r < n; r++) {
    const row = Array.from(logits.data.subarray(r * experts, (r + 1) * experts));
    const scores = row.map((l) => 1 / (1 + Math.exp(-l)));
    const choice = scores.map((s, e) => s + (bias ? bias.data[e]! : 0));
    if (groups > 1) {
      const groupScore = Array.from({ length: groups }, (_, g) => {
        const members = choice.slice(g * size, (g + 1) * size);
        return topKIndices(members, 2).reduce((s, i) => s + members[i]!, 0);
      });
      const kept = new Set(topKIndices(groupScore, topkGroups));
      // Experts of the other groups score 0 (not -inf), exactly as the reference code masks.
      choice.forEach((_, e) => {
        if (!kept.has(Math.floor(e / size))) choice[e] = 0;
      });
    }
    const chosen = topKIndices(choice, topK);
    const sum = renorm ? chosen.reduce((s, e) => s + scores[e]!, 0) + GROUPED_RENORM_EPS : 1;
    chosen.forEach((e, j) => {
      expert.data[r * topK + j] = e;
      gate.data[r * topK + j] = (scores[e]! / sum) * scale;
    });
  }
  return [expert, gate, probs!];
}

/** Expert ids after the capacity limit (-1 = dropped): the rule of plan/capacity.ts. */
export function keptExperts(expert: RefTensor, experts: number, limit: CapacityLimit): RefTensor {
  const [n, k] = expert.shape as [number, number];
  return tensor(expert.shape, keptExpertIds(expert.data, n, k, experts, limit));
}

/** logits[r, e] = (h[r]·w[e]) / (max(|h[r]|, ε) · max(|w[e]|, ε) · max(τ, τ_min)). */
function cosineLogitsReference(h: RefTensor, emb: RefTensor, tau: number): RefTensor {
  const [n, r] = h.shape as [number, number];
  const experts = emb.shape[0]!;
  const norm = (v: Float64Array) =>
    Math.max(Math.sqrt(v.reduce((s, x) => s + x * x, 0)), COSINE_EPS);
  const t = Math.max(tau, MIN_TEMPERATURE);
  const embNorms = Array.from({ length: experts }, (_, e) =>
    norm(emb.data.subarray(e * r, (e + 1) * r)),
  );
  const logits = tensor([n, experts]);
  for (let i = 0; i < n; i++) {
    const row = h.data.subarray(i * r, (i + 1) * r);
    const rowNorm = norm(row);
    for (let e = 0; e < experts; e++) {
      let dot = 0;
      for (let c = 0; c < r; c++) dot += row[c]! * emb.data[e * r + c]!;
      logits.data[i * experts + e] = dot / (rowNorm * embNorms[e]! * t);
    }
  }
  return logits;
}

function capacityReference(
  expert: RefTensor,
  gate: RefTensor,
  experts: number,
  limit: CapacityLimit,
): RefTensor[] {
  const kept = keptExperts(expert, experts, limit);
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
