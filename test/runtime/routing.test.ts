// Router options of issue 12: sigmoid gating, X-MoE routing (2404.15045 Table 9), and every
// capacity rule of the official code (factor with tutel's rounding, fixed, fraction of the routed
// rows; rank- or token-major admission). First the rules and the float64 reference semantics on
// hand-worked examples; then layers using them on Dawn at -O0 and -O2 against the reference:
// routing identical (chosen and kept experts, per-expert counts), outputs within 1e-5.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASELINE_PROFILE, profileOfDevice } from "../../compiler/codegen/profile.js";
import { FUSED_KERNELS } from "../../compiler/codegen/kernels/fused.js";
import { modelCost, weightList } from "../../compiler/costs.js";
import { type Graph, weightDecls } from "../../compiler/ir/graph.js";
import { OPS, type RefTensor } from "../../compiler/ir/ops.js";
import { runPipeline } from "../../compiler/passes/index.js";
import { buildPlan } from "../../compiler/plan.js";
import { layerModelGraph } from "../../compiler/layerModel.js";
import { nodeHost } from "../../compiler/node/host.js";
import {
  type CapacityLimit,
  admissionOrder,
  expertCapacity,
  keptExpertIds,
} from "../../plan/capacity.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { Session } from "../../runtime/session.js";
import { initWeights } from "../../runtime/weights.js";
import { randomInputs, reference, relL2 } from "./helpers.js";

const limit = (
  rule: CapacityLimit["rule"],
  capacity: number,
  admit: CapacityLimit["admit"] = "rank",
): CapacityLimit => ({ rule, capacity, admit });

const t = (shape: number[], data: number[]): RefTensor => ({
  shape,
  data: Float64Array.from(data),
});
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe("capacity rules (plan/capacity.ts)", () => {
  it("factor: C = k * floor(f * ceil(S / E)), tutel's rounding of a non-integer factor", () => {
    // S = 10 rows, E = 4 experts: ceil(S / E) = 3.
    expect(expertCapacity(limit("factor", 1), 10, 2, 4)).toBe(6); // the official training rule
    expect(expertCapacity(limit("factor", 1.25), 10, 2, 4)).toBe(6); // 2 * floor(3.75)
    expect(expertCapacity(limit("factor", 1.5), 10, 2, 4)).toBe(8); // 2 * floor(4.5)
    expect(expertCapacity(limit("factor", 0.5), 10, 1, 4)).toBe(1); // floor(1.5)
    expect(expertCapacity(limit("factor", 0.3), 10, 1, 4)).toBe(0); // floor(0.9): all dropped
    expect(expertCapacity(limit("factor", 0), 10, 2, 4)).toBe(Infinity); // dropless
  });

  it("tokens: a fixed C; fraction: C = ceil(frac * S), the official evaluation mode", () => {
    expect(expertCapacity(limit("tokens", 3), 1000, 2, 8)).toBe(3);
    expect(expertCapacity(limit("fraction", 0.25), 10, 2, 4)).toBe(3); // ceil(2.5)
    expect(expertCapacity(limit("fraction", 0.25), 12, 2, 4)).toBe(3);
    expect(expertCapacity(limit("fraction", 1), 7, 3, 4)).toBe(7);
  });

  it("admission order: rank-major (all first choices first) or token-major", () => {
    expect(admissionOrder(3, 2, "rank")).toEqual([0, 2, 4, 1, 3, 5]);
    expect(admissionOrder(3, 2, "token")).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("keeps the first C assignments of each expert in admission order", () => {
    // Rows choose (0, 1), (0, 1), (1, 0); C = 1 per expert.
    const expert = Float64Array.from([0, 1, 0, 1, 1, 0]);
    // Rank-major: first choices r0 -> 0 (kept), r1 -> 0 (full), r2 -> 1 (kept); then all full.
    expect(Array.from(keptExpertIds(expert, 3, 2, 2, limit("tokens", 1, "rank")))).toEqual([
      0, -1, -1, -1, 1, -1,
    ]);
    // Token-major: row 0 takes both experts; rows 1 and 2 find them full.
    expect(Array.from(keptExpertIds(expert, 3, 2, 2, limit("tokens", 1, "token")))).toEqual([
      0, 1, -1, -1, -1, -1,
    ]);
  });
});

describe("reference semantics (op table)", () => {
  it("sigmoid gating: top-k on sigmoid(logits), gate = the score, not renormalised", () => {
    const logits = t([1, 4], [0.5, -1, 2, 0]);
    const [expert, gate, probs] = OPS.route.evaluate!([logits], { topK: 2, gating: "sigmoid" });
    expect(Array.from(expert!.data)).toEqual([2, 0]);
    expect(gate!.data[0]).toBeCloseTo(sigmoid(2), 15);
    expect(gate!.data[1]).toBeCloseTo(sigmoid(0.5), 15);
    // The statistics keep the softmax distribution over all experts (balance loss as before).
    const z = [0.5, -1, 2, 0].map(Math.exp);
    const sum = z.reduce((a, b) => a + b);
    z.forEach((v, e) => expect(probs!.data[e]).toBeCloseTo(v / sum, 15));
  });

  it("cosine logits: normalised token and expert embedding, divided by the temperature", () => {
    const h = t([2, 2], [3, 4, 0, 0]);
    const emb = t([3, 2], [1, 0, 0, 2, -1, -1]);
    const [logits] = OPS.cosine_logits.evaluate!([h, emb, t([1], [0.5])], {});
    const expected = [0.6 / 0.5, 0.8 / 0.5, -7 / (5 * Math.SQRT2) / 0.5, 0, 0, 0];
    expected.forEach((v, i) => expect(logits!.data[i]).toBeCloseTo(v, 14));
  });

  it("cosine logits: a temperature below 1e-4 counts as 1e-4 (X-MoE's floor)", () => {
    const [logits] = OPS.cosine_logits.evaluate!(
      [t([1, 2], [1, 0]), t([1, 2], [2, 0]), t([1], [-3])],
      {},
    );
    expect(logits!.data[0]).toBeCloseTo(1e4, 8);
  });

  it("capacity op: kept ids and zero gates for dropped assignments, per rule and order", () => {
    const expert = t([3, 2], [0, 1, 0, 1, 1, 0]);
    const gate = t([3, 2], [0.6, 0.4, 0.7, 0.3, 0.9, 0.1]);
    const [kept, keptGate] = OPS.capacity.evaluate!([expert, gate], {
      experts: 2,
      ...limit("tokens", 1, "token"),
    });
    expect(Array.from(kept!.data)).toEqual([0, 1, -1, -1, -1, -1]);
    expect(Array.from(keptGate!.data)).toEqual([0.6, 0.4, 0, 0, 0, 0]);
  });
});

/** One layer of the std library as a model over x: f32[T, dim]. */
function layerGraph(layer: string, dim: number): Graph {
  return layerModelGraph(layer, dim, nodeHost, { imports: 'import "std/moe.moe"\n' });
}

describe("moec params: the X-MoE router's parameters", () => {
  it("reduction [r, d], expert embeddings [E, r] and one temperature, all router parameters", () => {
    const graph = layerGraph("SMoE(12, 5, 2, 10, xmoe = 4)", 12);
    const names = weightList(graph).filter((w) => w.name.startsWith("l.router"));
    expect(names).toEqual([
      { name: "l.router.reduction.weight", shape: [4, 12], dtype: "f32" },
      { name: "l.router.weight", shape: [5, 4], dtype: "f32" },
      { name: "l.router.temperature", shape: [1], dtype: "f32" },
    ]);
    const cost = modelCost(graph);
    expect(cost.routerParams).toBe(4 * 12 + 5 * 4 + 1);
    // Router multiply-adds per token: the projection and the E dot products in r dimensions.
    expect(cost.routerMacsPerToken).toBe(4 * 12 + 5 * 4);
  });

  it("MH-MoE: the router sees sub-tokens of width d/h (16/h-style routing dimension)", () => {
    const graph = layerGraph("MHMoE(16, 4, 6, 2, 8, xmoe = 4)", 16);
    expect(modelCost(graph).routerParams).toBe(4 * 4 + 6 * 4 + 1);
  });
});

interface GpuCase {
  readonly name: string;
  readonly layer: string;
  readonly dim: number;
  readonly tokens: readonly number[];
}

const GPU_CASES: GpuCase[] = [
  {
    name: "sigmoid gating",
    layer: 'SMoE(12, 5, 2, 10, gating = "sigmoid")',
    dim: 12,
    tokens: [1, 17],
  },
  {
    name: "X-MoE softmax (r = 4)",
    layer: "SMoE(12, 5, 2, 10, xmoe = 4)",
    dim: 12,
    tokens: [1, 17],
  },
  {
    name: "X-MoE sigmoid (r = 3, odd: scalar loads)",
    layer: 'SMoE(9, 6, 2, 8, gated = false, act = gelu, gating = "sigmoid", xmoe = 3)',
    dim: 9,
    tokens: [13],
  },
  {
    name: "MH-MoE, X-MoE on sub-tokens (r = 16/h = 4), factor 1.25 (tutel rounding)",
    layer: "MHMoE(16, 4, 6, 2, 8, xmoe = 4, capacity = 1.25)",
    dim: 16,
    tokens: [5, 11],
  },
  {
    name: "fixed capacity of 2, rank-major",
    layer: 'SMoE(12, 4, 2, 10, capacity = 2.0, capacity_rule = "tokens")',
    dim: 12,
    tokens: [9],
  },
  {
    name: "fixed capacity of 2, token-major",
    layer: 'SMoE(12, 4, 2, 10, capacity = 2.0, capacity_rule = "tokens", admit = "token")',
    dim: 12,
    tokens: [9],
  },
  {
    name: "fraction 0.25 of the routed rows, MH-MoE, token-major",
    layer:
      'MHMoE(12, 2, 4, 3, 8, capacity = 0.25, capacity_rule = "fraction", admit = "token", gating = "renorm")',
    dim: 12,
    tokens: [7, 15],
  },
  {
    name: "factor 0.7, token-major, sigmoid gating",
    layer: 'SMoE(8, 3, 2, 6, capacity = 0.7, admit = "token", gating = "sigmoid")',
    dim: 8,
    tokens: [1, 23],
  },
  {
    name: "130 experts (the router's loop kernel), X-MoE sigmoid, fraction 0.5",
    layer:
      'SMoE(8, 130, 2, 4, gating = "sigmoid", xmoe = 4, capacity = 0.5, capacity_rule = "fraction")',
    dim: 8,
    tokens: [19],
  },
];

/** The expert-id outputs of every router (chosen) and of every capacity limit (kept). */
function routingValues(graph: Graph): number[] {
  return graph.nodes.flatMap((n) =>
    n.op === "route" || n.op === "moe_route" || n.op === "capacity"
      ? [n.outputs[0]!]
      : n.op === "moe_permute"
        ? [n.outputs[2]!]
        : [],
  );
}

describe("router options on Dawn, -O0 and -O2, vs the float64 reference", () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
  });
  afterAll(() => moec?.device.destroy());

  for (const c of GPU_CASES) {
    it(
      c.name,
      async () => {
        const lowered = layerGraph(c.layer, c.dim);
        const weights = initWeights(weightDecls(lowered), 11);
        const device = profileOfDevice(moec.device);
        const variants = [
          ["-O0", 0, device],
          ["-O2 baseline profile", 2, BASELINE_PROFILE],
          ["-O2 device profile", 2, device],
        ] as const;
        for (const [label, level, profile] of variants) {
          const { graph } = runPipeline(lowered, { level });
          const keep = routingValues(graph);
          const plan = buildPlan(graph, profile, {
            keep,
            ...(level === 2 ? { kernels: FUSED_KERNELS } : {}),
          });
          const session = await Session.create(moec.device, plan, weights);
          for (const tokens of c.tokens) {
            const inputs = randomInputs(graph, tokens, tokens + 3);
            const result = await session.run(inputs, { poison: true, values: keep });
            const expected = reference(graph, inputs, weights);
            const at = `${label}, T=${tokens}`;
            for (const v of keep) {
              expect(Array.from(result.values.get(v)!.data), `${at}: expert ids %${v}`).toEqual(
                Array.from(expected.values[v]!.data),
              );
            }
            graph.routing.forEach((site, i) => {
              const stats = result.routing[i]!;
              const ints = (v: number) => Array.from(expected.values[v]!.data);
              expect(stats.counts.flat(), `${at}: counts`).toEqual(ints(site.counts));
              expect(stats.dropped, `${at}: dropped`).toEqual(ints(site.dropped));
              expect(stats.top1, `${at}: top1`).toEqual(ints(site.top1));
            });
            for (const [name, ref] of expected.outputs) {
              const actual = result.outputs.get(name)!;
              // Everything dropped (C = 0) leaves exact zeros, where a relative error is 0/0.
              if (ref.data.every((v) => v === 0))
                expect(Array.from(actual.data)).toEqual(Array.from(ref.data, () => 0));
              else expect(relL2(actual.data, ref.data), `${at}: ${name}`).toBeLessThan(1e-5);
            }
          }
          session.destroy();
        }
        expect(moec.errors).toEqual([]);
      },
      120_000,
    );
  }
});
