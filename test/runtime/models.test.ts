// Every shipped model, at small sizes, run by the -O0 plan on Dawn against the float64 reference:
// outputs (rel. L2 < 1e-5), the expert chosen for every (sub-)token, per-expert counts; bitwise
// identical reruns; random configurations (fast-check); every kernel of the full-size models
// compiles in Dawn.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Graph, weightDecls } from "../../compiler/ir/graph.js";
import { compileGraph } from "../../compiler/compile.js";
import type { OptLevel } from "../../compiler/passes/index.js";
import { type Plan, buildPlan } from "../../compiler/plan.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import type { ReferenceResult } from "../../compiler/ir/interpret.js";
import { type RunResult, Session } from "../../runtime/session.js";
import { initWeights } from "../../runtime/weights.js";
import { bitsOf, loadGraph, randomInputs, reference, relL2 } from "./helpers.js";
import { SMALL_LAYER, SMALL_LM, SMALL_PARITY } from "../../models/small.js";

const [LAYER, LM, PARITY] = [SMALL_LAYER, SMALL_LM, SMALL_PARITY];
const MODELS: readonly { file: string; sets: readonly string[]; tokens: number }[] = [
  { file: "models/smoe.moe", sets: LAYER, tokens: 13 },
  { file: "models/fine_grained.moe", sets: [...LAYER, "shared=1"], tokens: 13 },
  { file: "models/mh_moe.moe", sets: LAYER, tokens: 13 },
  { file: "models/mh_moe_parity.moe", sets: PARITY, tokens: 13 },
  { file: "models/mh_moe_depth.moe", sets: [...LAYER, "depth=3"], tokens: 13 },
  { file: "models/mh_moe_parity_ablation.moe", sets: PARITY, tokens: 13 },
  { file: "models/xmoe.moe", sets: [...LAYER, "xmoe=4"], tokens: 13 },
  {
    file: "models/xmoe.moe",
    sets: [...LAYER, "gating=sigmoid", "capacity=1.5", "admit=token"],
    tokens: 13,
  },
  { file: "models/lm_smoe.moe", sets: LM, tokens: 10 },
  { file: "models/lm_fine_grained.moe", sets: LM, tokens: 10 },
  { file: "models/lm_mh_moe.moe", sets: LM, tokens: 10 },
];
const SHIPPED = MODELS.map((m) => m.file);

/** The expert-id output of every route node, kept readable after the run. */
function routeValues(
  graph: Graph,
): { expert: number; probs: number; topK: number; experts: number }[] {
  return graph.nodes
    .filter((n) => n.op === "route" || n.op === "moe_route")
    .map((n) => ({
      expert: n.outputs[0]!,
      probs: n.outputs[2]!,
      topK: (n.attrs as { topK: number }).topK,
      experts: graph.values[n.outputs[2]!]!.type.shape[1] as number,
    }));
}

interface Checked {
  /** Assignments where f32 and f64 chose differently because of a genuine near-tie. */
  readonly nearTies: number;
}

/**
 * Compares a GPU run with the reference. Routing must agree exactly, except where the two
 * reference probabilities differ by less than 1e-5 (a near-tie f32 may resolve differently); then
 * the downstream values legitimately differ and only the routing is checked.
 */
function compareWithReference(graph: Graph, result: RunResult, ref: ReferenceResult): Checked {
  let nearTies = 0;
  for (const r of routeValues(graph)) {
    const gpu = result.values.get(r.expert)!.data;
    const cpu = ref.values[r.expert]!.data;
    const probs = ref.values[r.probs]!.data;
    for (let a = 0; a < cpu.length; a++) {
      if (gpu[a] === cpu[a]) continue;
      const row = Math.floor(a / r.topK);
      const gap = Math.abs(probs[row * r.experts + gpu[a]!]! - probs[row * r.experts + cpu[a]!]!);
      expect(gap, `assignment ${a}: GPU chose ${gpu[a]}, reference ${cpu[a]}`).toBeLessThan(1e-5);
      nearTies++;
    }
  }
  if (nearTies > 0) return { nearTies };
  for (const [name, expected] of ref.outputs) {
    const actual = result.outputs.get(name)!;
    expect(actual.shape).toEqual(expected.shape);
    expect(relL2(actual.data, expected.data), name).toBeLessThan(1e-5);
  }
  graph.routing.forEach((site, i) => {
    const stats = result.routing[i]!;
    const ints = (v: number) => Array.from(ref.values[v]!.data);
    expect(stats.counts.flat(), `${site.scope} counts`).toEqual(ints(site.counts));
    expect(stats.top1, `${site.scope} top1`).toEqual(ints(site.top1));
    expect(stats.dropped, `${site.scope} dropped`).toEqual(ints(site.dropped));
    expect(relL2(stats.probSum, ref.values[site.probSum]!.data)).toBeLessThan(1e-5);
    const rows = stats.tokensRouted;
    const top1 = ints(site.top1);
    const probSum = ints(site.probSum);
    const aux = site.experts * top1.reduce((s, t, e) => s + (t / rows) * (probSum[e]! / rows), 0);
    expect(Math.abs(stats.auxLoss - aux)).toBeLessThan(1e-5 * Math.max(1, aux));
  });
  return { nearTies };
}

/** The plan of a level, and the graph it runs (the optimised one, whose values it keeps). */
function compileForTest(lowered: Graph, level: OptLevel): { graph: Graph; plan: Plan } {
  const { graph, plan } = compileGraph(lowered, {
    level,
    keep: (g) => routeValues(g).map((r) => r.expert),
  });
  return { graph, plan };
}

describe.each([0, 2] as const)(
  "shipped models at -O%i on Dawn vs the float64 reference",
  (level) => {
    let moec: MoecDevice;
    beforeAll(async () => {
      moec = await createNodeDevice();
    });
    afterAll(() => moec?.device.destroy());

    for (const m of MODELS) {
      it(`${m.file} ${m.sets.join(" ")}`, async () => {
        const { graph, plan } = compileForTest(loadGraph(m.file, m.sets), level);
        // A page loads plans as JSON: run the round-tripped one.
        const loaded = JSON.parse(JSON.stringify(plan)) as Plan;
        const weights = initWeights(weightDecls(graph), 1);
        const session = await Session.create(moec.device, loaded, weights);
        const inputs = randomInputs(graph, m.tokens, 5, 64);
        const values = routeValues(graph).map((r) => r.expert);
        const first = await session.run(inputs, { poison: true, values });
        const second = await session.run(inputs, { poison: true, values });
        for (const [name, t] of first.outputs) {
          expect(bitsOf(second.outputs.get(name)!), `${name} differs between runs`).toEqual(
            bitsOf(t),
          );
        }
        expect(second.routing).toEqual(first.routing);
        const checked = compareWithReference(graph, first, reference(graph, inputs, weights));
        expect(checked.nearTies).toBe(0);
        expect(first.routing.length).toBe(graph.routing.length);
        for (const stats of first.routing) {
          expect(stats.counts.flat().reduce((a, b) => a + b, 0)).toBe(
            stats.tokensRouted * stats.topK,
          );
        }
        session.destroy();
        expect(moec.errors).toEqual([]);
      }, 60_000); // lavapipe JIT-compiles each new pipeline on first use: slow on a cold cache
    }

    it("random configurations (fast-check): T=1, odd T, heads=1, top_k=experts, dropping capacity", async () => {
      const config = fc.record({
        model: fc.constantFrom("models/smoe.moe", "models/mh_moe.moe"),
        tokens: fc.integer({ min: 1, max: 70 }),
        heads: fc.constantFrom(1, 2, 4),
        experts: fc.integer({ min: 2, max: 6 }),
        topK: fc.integer({ min: 1, max: 6 }),
        capacity: fc.constantFrom(0, 0.5, 1, 1.25),
        gating: fc.constantFrom("softmax", "renorm", "softmax_topk"),
        act: fc.constantFrom("gelu", "gelu_tanh", "silu", "relu"),
        gated: fc.boolean(),
        seed: fc.integer({ min: 0, max: 1000 }),
      });
      type Config = typeof config extends fc.Arbitrary<infer C> ? C : never;
      const examples: [Config][] = [
        [
          {
            model: "models/mh_moe.moe",
            tokens: 1,
            heads: 1,
            experts: 3,
            topK: 3,
            capacity: 0,
            gating: "renorm",
            act: "gelu",
            gated: false,
            seed: 1,
          },
        ],
        [
          {
            model: "models/smoe.moe",
            tokens: 37,
            heads: 1,
            experts: 4,
            topK: 2,
            capacity: 0.5,
            gating: "softmax",
            act: "silu",
            gated: true,
            seed: 2,
          },
        ],
      ];
      let nearTies = 0;
      await fc.assert(
        fc.asyncProperty(config, async (c) => {
          const topK = Math.min(c.topK, c.experts);
          const sets = [
            "dim=16",
            "ffn=24",
            `experts=${c.experts}`,
            `top_k=${topK}`,
            `capacity=${c.capacity}`,
            `gating=${c.gating}`,
            `act=${c.act}`,
            `gated=${c.gated}`,
            ...(c.model.includes("mh_moe") ? [`heads=${c.heads}`, `bias=${!c.gated}`] : []),
          ];
          const { graph, plan } = compileForTest(loadGraph(c.model, sets), level);
          const weights = initWeights(weightDecls(graph), c.seed);
          const session = await Session.create(moec.device, plan, weights);
          const inputs = randomInputs(graph, c.tokens, c.seed + 1);
          const result = await session.run(inputs, {
            poison: true,
            values: routeValues(graph).map((r) => r.expert),
          });
          session.destroy();
          nearTies += compareWithReference(
            graph,
            result,
            reference(graph, inputs, weights),
          ).nearTies;
          if (c.capacity > 0 && c.capacity < 1) {
            // factor < 1 must drop something whenever more than C assignments exist.
            const stats = result.routing[0]!;
            const kept = stats.counts.flat().reduce((a, b) => a + b, 0);
            expect(kept + stats.dropped.reduce((a, b) => a + b, 0)).toBe(stats.tokensRouted * topK);
          }
        }),
        { numRuns: 8, seed: 20261122, examples },
      );
      expect(nearTies).toBeLessThanOrEqual(1);
      expect(moec.errors).toEqual([]);
    }, 120_000);

    it("every kernel of the full-size shipped models compiles in Dawn without errors", async () => {
      const seen = new Set<string>();
      for (const file of SHIPPED) {
        const plan = compileGraph(loadGraph(file), { level }).plan;
        for (const [i, shader] of plan.shaders.entries()) {
          if (seen.has(shader.wgsl)) continue;
          seen.add(shader.wgsl);
          const module = moec.device.createShaderModule({ code: shader.wgsl });
          const info = await module.getCompilationInfo();
          const errors = info.messages
            .filter((msg) => msg.type === "error")
            .map((msg) => msg.message);
          expect(errors, `${file} shader s${i}`).toEqual([]);
        }
      }
      expect(seen.size).toBeGreaterThan(10);
    }, 60_000);
  },
);
