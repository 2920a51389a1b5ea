// The optimiser's passes preserve meaning: the float64 reference interpreter gives the same
// outputs and routing statistics on the lowered and the optimised graph of every shipped model
// and of random MoE configurations.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nodeHost } from "../../compiler/node/host.js";
import type { Graph } from "../../compiler/ir/graph.js";
import type { RefTensor } from "../../compiler/ir/ops.js";
import { compileToIR } from "../../compiler/index.js";
import { PIPELINE, runPipeline } from "../../compiler/passes/index.js";
import { createRng } from "../../runtime/random.js";
import { runReference } from "../../compiler/ir/interpret.js";
import { SMALL_LAYER, SMALL_LM, SMALL_PARITY } from "../../models/small.js";

// The small sizes, with what each case exercises on top (two choices, shared experts, capacity).
const MODELS: Record<string, string[]> = {
  "models/smoe.moe": [...SMALL_LAYER, "top_k=2"],
  "models/fine_grained.moe": [...SMALL_LAYER, "shared=1"],
  "models/mh_moe.moe": [...SMALL_LAYER, "heads=4", "top_k=2"],
  "models/mh_moe_parity.moe": [...SMALL_PARITY, "capacity=1.0"],
  "models/lm_smoe.moe": [...SMALL_LM],
  "models/lm_fine_grained.moe": [...SMALL_LM, "shared=1"],
  "models/lm_mh_moe.moe": [...SMALL_LM],
};

function lower(file: string, overrides: string[]): Graph {
  const result = compileToIR(file, nodeHost, { overrides });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return result.graph!;
}

/** Random inputs and weights for a graph at T tokens (never all zero). */
function randomData(graph: Graph, tokens: number, seed: number) {
  const rng = createRng(seed);
  const tensor = (shape: number[], f: () => number): RefTensor => ({
    shape,
    data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f),
  });
  const inputs = new Map<string, RefTensor>();
  for (const i of graph.inputs) {
    const t = graph.values[i.value]!.type;
    const shape = t.shape.map((d) => (typeof d === "number" ? d : d.coef * tokens));
    const vocab = graph.nodes.find((n) => n.op === "embedding");
    const rows = vocab ? (graph.values[vocab.inputs[1]!]!.type.shape[0] as number) : 0;
    inputs.set(
      i.name,
      tensor(shape, () =>
        t.dtype === "i32" ? Math.floor(rng.nextFloat() * rows) : rng.uniform(-1, 1),
      ),
    );
  }
  const weights = new Map<string, RefTensor>();
  for (const n of graph.nodes) {
    if (n.op !== "weight") continue;
    const attrs = n.attrs as { name: string; init: string };
    const offset = attrs.init === "norm_weight" ? 1 : 0;
    weights.set(
      attrs.name,
      tensor(
        graph.values[n.outputs[0]!]!.type.shape as number[],
        () => offset + rng.uniform(-0.5, 0.5),
      ),
    );
  }
  return { inputs, weights };
}

function expectSameMeaning(lowered: Graph, optimised: Graph, tokens: number, seed: number) {
  const { inputs, weights } = randomData(lowered, tokens, seed);
  const a = runReference(lowered, inputs, weights);
  const b = runReference(optimised, inputs, weights);
  for (const [name, t] of a.outputs)
    expect(Array.from(b.outputs.get(name)!.data)).toEqual(Array.from(t.data));
  expect(optimised.routing.length).toBe(lowered.routing.length);
  lowered.routing.forEach((site, i) => {
    const other = optimised.routing[i]!;
    for (const key of ["counts", "top1", "probSum", "dropped"] as const) {
      expect(Array.from(b.values[other[key]]!.data)).toEqual(Array.from(a.values[site[key]]!.data));
    }
  });
}

describe("optimiser passes", () => {
  for (const [file, overrides] of Object.entries(MODELS)) {
    it(`preserve the outputs and routing of ${file}`, () => {
      const lowered = lower(file, overrides);
      const { graph, stages } = runPipeline(lowered, { level: 2 });
      expect([...stages.keys()]).toEqual(["lowered", ...PIPELINE.map((p) => p.name)]);
      expectSameMeaning(lowered, graph, 7, 11);
    });
  }

  it("fuse every MoE block of the shipped models into route, permute and grouped GEMMs", () => {
    for (const [file, overrides] of Object.entries(MODELS)) {
      const { graph } = runPipeline(lower(file, overrides), { level: 2 });
      const ops = graph.nodes.map((n) => n.op);
      for (const unfused of ["route", "capacity", "route_stats", "expert_up", "expert_down"]) {
        expect(ops, `${file} still has ${unfused}`).not.toContain(unfused);
      }
      expect(ops.filter((o) => o === "moe_route").length).toBe(graph.routing.length);
    }
  });

  it("fold the combine into the merge layer of MH-MoE and the residual add of the LMs", () => {
    const mh = runPipeline(lower("models/mh_moe_parity.moe", MODELS["models/mh_moe_parity.moe"]!), {
      level: 2,
    }).graph;
    expect(mh.nodes.map((n) => n.op)).toContain("combine_linear");
    const lm = runPipeline(lower("models/lm_smoe.moe", MODELS["models/lm_smoe.moe"]!), {
      level: 2,
    }).graph;
    expect(lm.nodes.map((n) => n.op)).toContain("combine_add");
    expect(lm.nodes.map((n) => n.op)).toContain("linear_glu");
  });

  it("-O0 only specialises", () => {
    const lowered = lower("models/smoe.moe", MODELS["models/smoe.moe"]!);
    const { graph } = runPipeline(lowered, { level: 0 });
    expect(graph.nodes.map((n) => n.op)).toEqual(lowered.nodes.map((n) => n.op));
  });

  it("specialize binds T everywhere", () => {
    const lowered = lower("models/mh_moe_parity.moe", [...SMALL_PARITY]);
    const { graph } = runPipeline(lowered, { level: 2, bindings: { T: 5 } });
    for (const v of graph.values) for (const d of v.type.shape) expect(typeof d).toBe("number");
    expect(graph.values[graph.outputs[0]!.value]!.type.shape).toEqual([5, 32]);
  });

  it("preserve meaning on random MoE configurations", () => {
    fc.assert(
      fc.property(
        fc.record({
          kind: fc.constantFrom("smoe", "mh"),
          heads: fc.constantFrom(1, 2, 4),
          experts: fc.integer({ min: 1, max: 6 }),
          topK: fc.integer({ min: 1, max: 6 }),
          capacity: fc.constantFrom(0, 0.5, 1, 2),
          gating: fc.constantFrom("softmax", "renorm", "softmax_topk"),
          tokens: fc.integer({ min: 1, max: 9 }),
          seed: fc.integer({ min: 1, max: 1000 }),
        }),
        ({ kind, heads, experts, topK, capacity, gating, tokens, seed }) => {
          const k = Math.min(topK, experts);
          const common = [
            `experts=${experts}`,
            `top_k=${k}`,
            `capacity=${capacity}`,
            `gating=${gating}`,
            "dim=16",
            "ffn=8",
          ];
          const lowered =
            kind === "smoe"
              ? lower("models/smoe.moe", [...common, "gated=false", "act=gelu"])
              : lower("models/mh_moe.moe", [...common, `heads=${heads}`]);
          expectSameMeaning(lowered, runPipeline(lowered, { level: 2 }).graph, tokens, seed);
        },
      ),
      { numRuns: 40 },
    );
  });
});
