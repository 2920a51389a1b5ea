// Fused MoE ops, made by the optimiser's passes (compiler/passes), never by lowering: the router
// in one pass, the counting sort by expert, grouped expert GEMMs, and the combine read by its consumer.
import { type Dim, scaleDim } from "../types.js";
import type { OpFamily } from "./def.js";
import { DENSE_OPS } from "./dense.js";
import { ELEMENTWISE_OPS } from "./elementwise.js";
import { EXPERT_OPS } from "./experts.js";
import { HEAD_OPS } from "./heads.js";
import { admissionOrder, isDropless } from "../../../plan/capacity.js";
import { bytesOf, expect, numel, tensor } from "./helpers.js";
import { ROUTING_OPS, emptyProbs, keptExperts, statsReference } from "./routing.js";

export const FUSED_MOE_OPS: OpFamily<
  | "moe_route"
  | "moe_permute"
  | "route_balance"
  | "moe_grouped_up"
  | "moe_grouped_down"
  | "combine_linear"
  | "combine_add"
> = {
  // Inputs: rows and router weight, or (cosine, X-MoE) projected rows, expert embeddings and
  // the temperature: the logits op that the pass fused away, then route.
  moe_route: {
    arity: [2, 3],
    infer: ([x, w, tau], attrs) =>
      ROUTING_OPS.route.infer(
        attrs.cosine
          ? ROUTING_OPS.cosine_logits.infer([x!, w!, tau!], {})
          : DENSE_OPS.linear.infer([x!, w!], {}),
        attrs,
      ),
    cost: ([x, w, tau], outs, attrs) => {
      const logits = [x![0]!, w![0]!];
      const a = attrs.cosine
        ? ROUTING_OPS.cosine_logits.cost([x!, w!, tau!], [logits], {})
        : DENSE_OPS.linear.cost([x!, w!], [logits], {});
      const b = ROUTING_OPS.route.cost([logits], outs, attrs);
      return { macs: a.macs, flops: a.flops + b.flops, bytes: bytesOf(x!, w!, ...outs) };
    },
    evaluate: ([x, w, tau], attrs) =>
      ROUTING_OPS.route.evaluate!(
        attrs.cosine
          ? ROUTING_OPS.cosine_logits.evaluate!([x!, w!, tau!], {})
          : DENSE_OPS.linear.evaluate!([x!, w!], {}),
        attrs,
      ),
  },

  moe_permute: {
    arity: [1, 1],
    infer: ([expert], { experts, heads }) => {
      expect(
        expert!.dtype === "i32" && expert!.shape.length === 2,
        "moe_permute takes expert ids [rows, k]",
      );
      const [n, k] = expert!.shape as [Dim, number];
      return [
        { dtype: "i32", shape: [experts + 1] },
        { dtype: "i32", shape: [scaleDim(n, k)] },
        expert!,
        { dtype: "i32", shape: [heads, experts] },
        { dtype: "i32", shape: [heads] },
      ];
    },
    cost: ([e]) => ({ macs: 0, flops: numel(e!), bytes: 4 * bytesOf(e!) }),
    evaluate: ([expert], { experts, rule, capacity, admit, heads }) => {
      const limit = { rule, capacity, admit };
      const kept = isDropless(limit) ? expert! : keptExperts(expert!, experts, limit);
      const [n, k] = expert!.shape as [number, number];
      const offsets = tensor([experts + 1]);
      const order = tensor([n * k]);
      // Inside a segment, assignments keep their admission order.
      const admitted = admissionOrder(n, k, admit);
      let next = 0;
      for (let e = 0; e < experts; e++) {
        offsets.data[e] = next;
        for (const a of admitted) if (kept.data[a] === e) order.data[next++] = a;
      }
      offsets.data[experts] = next;
      // Dropped assignments follow, grouped by the expert that could not take them.
      for (let e = 0; e < experts; e++)
        for (const a of admitted)
          if (expert!.data[a] === e && kept.data[a]! < 0) order.data[next++] = a;
      const [counts, , , dropped] = statsReference(
        expert!,
        kept,
        emptyProbs(n, experts),
        experts,
        heads,
      );
      return [offsets, order, kept, counts!, dropped!];
    },
  },

  route_balance: {
    arity: [2, 2],
    infer: ([expert, probs]) => {
      const experts = probs!.shape[1]!;
      expect(
        typeof experts === "number" && expert!.dtype === "i32",
        "route_balance takes expert ids and probabilities",
      );
      return [
        { dtype: "i32", shape: [experts] },
        { dtype: "f32", shape: [experts] },
      ];
    },
    cost: ([e, p]) => ({ macs: 0, flops: numel(p!), bytes: bytesOf(e!, p!) }),
    evaluate: ([expert, probs]) => {
      const experts = probs!.shape[1]!;
      const [, top1, probSum] = statsReference(expert!, expert!, probs!, experts, 1);
      return [top1!, probSum!];
    },
  },

  moe_grouped_up: {
    arity: [5, 6],
    // Same result as expert_up: order and offsets only say how the GPU walks the assignments.
    infer: ([x, expert, , , w1, extra], attrs) =>
      EXPERT_OPS.expert_up.infer([x!, expert!, w1!, ...(extra ? [extra] : [])], attrs),
    cost: ([x, e, , , w1, extra], outs, attrs) =>
      EXPERT_OPS.expert_up.cost([x!, e!, w1!, ...(extra ? [extra] : [])], outs, attrs),
    evaluate: ([x, expert, , , w1, extra], attrs) =>
      EXPERT_OPS.expert_up.evaluate!([x!, expert!, w1!, ...(extra ? [extra] : [])], attrs),
  },

  moe_grouped_down: {
    arity: [6, 7],
    infer: ([h, expert, , , gate, w2, b2], attrs) =>
      EXPERT_OPS.expert_down.infer([h!, expert!, gate!, w2!, ...(b2 ? [b2] : [])], attrs),
    cost: ([h, e, , , g, w2, b2], outs, attrs) =>
      EXPERT_OPS.expert_down.cost([h!, e!, g!, w2!, ...(b2 ? [b2] : [])], outs, attrs),
    evaluate: ([h, expert, , , gate, w2, b2], attrs) =>
      EXPERT_OPS.expert_down.evaluate!([h!, expert!, gate!, w2!, ...(b2 ? [b2] : [])], attrs),
  },

  combine_linear: {
    arity: [2, 3],
    infer: ([slots, w, b], { heads }) => {
      const [combined] = EXPERT_OPS.combine.infer([slots!], {});
      const [joined] = heads > 1 ? HEAD_OPS.join.infer([combined!], { heads }) : [combined!];
      return DENSE_OPS.linear.infer([joined!, w!, ...(b ? [b] : [])], {});
    },
    cost: ([slots, w, b], outs) => {
      const [n, k, d] = slots! as [number, number, number];
      const base = DENSE_OPS.linear.cost([[outs[0]![0]!, w![1]!], w!, ...(b ? [b] : [])], outs, {});
      return { ...base, flops: base.flops + n * k * d, bytes: base.bytes + bytesOf(slots!) };
    },
    evaluate: ([slots, w, b], { heads }) => {
      const [combined] = EXPERT_OPS.combine.evaluate!([slots!], {});
      const [joined] = heads > 1 ? HEAD_OPS.join.evaluate!([combined!], { heads }) : [combined!];
      return DENSE_OPS.linear.evaluate!([joined!, w!, ...(b ? [b] : [])], {});
    },
  },

  combine_add: {
    arity: [2, 2],
    infer: ([slots, residual], { heads }) => {
      const [combined] = EXPERT_OPS.combine.infer([slots!], {});
      const [joined] = heads > 1 ? HEAD_OPS.join.infer([combined!], { heads }) : [combined!];
      return ELEMENTWISE_OPS.add.infer([joined!, residual!], {});
    },
    cost: ([slots, r], outs) => ({
      macs: 0,
      flops: numel(slots!),
      bytes: bytesOf(slots!, r!, outs[0]!),
    }),
    evaluate: ([slots, residual], { heads }) => {
      const [combined] = EXPERT_OPS.combine.evaluate!([slots!], {});
      const [joined] = heads > 1 ? HEAD_OPS.join.evaluate!([combined!], { heads }) : [combined!];
      return ELEMENTWISE_OPS.add.evaluate!([joined!, residual!], {});
    },
  },
};
