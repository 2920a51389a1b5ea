// The -O2 kernels' tiled GEMMs at awkward shapes, on Dawn, against the float64 reference:
// M = 1, M not a multiple of the tile rows, outputs not a multiple of the tile columns, K not a
// multiple of 4 (vec2 and scalar loads), several row tiles and column blocks; the gated pair,
// the grouped expert GEMMs (segments that straddle tiles, dropped assignments), the combine read
// by the merge layer, and the register router. Each case runs under the frozen baseline profile
// (no subgroups), under the live adapter's profile (subgroup sharing where it has subgroups),
// and with small forced tiles, on poisoned buffers. Sizes stay small: lavapipe is slow.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TilingChoices } from "../../compiler/codegen/kernels/common.js";
import { FUSED_KERNELS, chooseGemm } from "../../compiler/codegen/kernels/fused.js";
import { BASELINE_PROFILE, type DeviceProfile, profileOfDevice } from "../../plan/profile.js";
import { constantSize, evalSize, formatSize, mulSize, tileCount } from "../../plan/size.js";
import { compileToIR } from "../../compiler/index.js";
import { type Graph, weightDecls } from "../../compiler/ir/graph.js";
import { runPipeline } from "../../compiler/passes/index.js";
import { buildPlan } from "../../compiler/plan.js";
import { layerModelGraph } from "../../compiler/layerModel.js";
import { memoryHost } from "../../compiler/sources.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { Session } from "../../runtime/session.js";
import { initWeights } from "../../runtime/weights.js";
import { randomInputs, reference, relL2 } from "../runtime/helpers.js";
import { nodeHost } from "../../compiler/node/host.js";

/** One layer as a model over x: f32[T, dim]. */
function layerGraph(layer: string, dim: number, out = dim): Graph {
  return layerModelGraph(layer, dim, memoryHost({}), { out });
}

function modelGraph(file: string, sets: string[]): Graph {
  const result = compileToIR(file, nodeHost, { overrides: sets });
  if (!result.graph) throw new Error(`${file} did not compile`);
  return result.graph;
}

/** Small tiles: several row tiles and column blocks even at these sizes. */
/** Small tiles over the default choice: many tiles, so tile edges get exercised. */
const smallTiles: TilingChoices = { gemm: { tm: 8, tn: 2, wg: 8 } };

interface Case {
  readonly name: string;
  readonly graph: () => Graph;
  readonly tokens: readonly number[];
}

const CASES: Case[] = [
  {
    name: "linear 12 -> 20 with bias (vec4, ragged columns)",
    graph: () => layerGraph("Linear(12, 20)", 12, 20),
    tokens: [1, 13],
  },
  {
    name: "linear 7 -> 9 (K odd: scalar loads)",
    graph: () => layerGraph("Linear(7, 9, bias = false)", 7, 9),
    tokens: [1, 5, 17],
  },
  {
    name: "linear 10 -> 6 (K even: vec2 loads)",
    graph: () => layerGraph("Linear(10, 6)", 10, 6),
    tokens: [3, 9],
  },
  {
    name: "linear 16 -> 300 (several column blocks)",
    graph: () => layerGraph("Linear(16, 300, bias = false)", 16, 300),
    tokens: [21],
  },
  {
    name: "gated FFN 12 -> 10 -> 12 (linear_glu, then K = 10)",
    graph: () => layerGraph("FFN(12, 10, act = silu, gated = true)", 12),
    tokens: [1, 11],
  },
  {
    name: "FFN with bias and gelu 6 -> 7 -> 6",
    graph: () => layerGraph("FFN(6, 7, act = gelu)", 6),
    tokens: [19],
  },
  {
    name: "SMoE: grouped GEMMs (dim 12, width 10, 5 experts, top-2)",
    graph: () => modelGraph("models/smoe.moe", ["dim=12", "experts=5", "top_k=2", "ffn=10"]),
    tokens: [1, 7, 29],
  },
  {
    name: "SMoE with dropping capacity and bias (dim 9: scalar loads)",
    graph: () =>
      modelGraph("models/smoe.moe", [
        "dim=9",
        "experts=3",
        "top_k=2",
        "ffn=6",
        "gated=false",
        "act=gelu",
        "capacity=0.5",
      ]),
    // tutel's rounding: C = 2 * floor(0.5 * ceil(T / 3)), 0 at T = 1 (all dropped), 2 at T = 7.
    tokens: [7, 23],
  },
  {
    name: "MH-MoE: head, sub-tokens of width 6, combine read by the merge layer",
    graph: () =>
      modelGraph("models/mh_moe.moe", ["dim=12", "heads=2", "experts=4", "top_k=2", "ffn=8"]),
    tokens: [1, 9],
  },
  {
    name: "MH-MoE with 4 heads of width 5 (odd sub-tokens), top-3 of 6",
    graph: () =>
      modelGraph("models/mh_moe.moe", [
        "dim=20",
        "heads=4",
        "experts=6",
        "top_k=3",
        "ffn=6",
        "gating=renorm",
      ]),
    tokens: [5],
  },
  {
    name: "LM: residual epilogues (attention and MoE blocks) around the kernels above",
    graph: () =>
      modelGraph("models/lm_smoe.moe", [
        "vocab=16",
        "dim=12",
        "layers=2",
        "attn_heads=2",
        "experts=3",
        "moe_ffn=8",
      ]),
    tokens: [6],
  },
];

describe("tiled -O2 GEMMs on Dawn vs the float64 reference", () => {
  let moec: MoecDevice;
  let profiles: [string, DeviceProfile, TilingChoices?][];
  beforeAll(async () => {
    moec = await createNodeDevice();
    const device = profileOfDevice(moec.device);
    profiles = [
      ["baseline", BASELINE_PROFILE],
      [`device (${device.features.join(", ") || "no features"})`, device],
      ["device, small tiles", device, smallTiles],
    ];
  });
  afterAll(() => moec?.device.destroy());

  for (const c of CASES) {
    it(
      c.name,
      async () => {
        const lowered = c.graph();
        const { graph } = runPipeline(lowered, { level: 2 });
        const weights = initWeights(weightDecls(graph), 3);
        for (const [label, profile, tiling] of profiles) {
          const plan = buildPlan(graph, profile, { kernels: FUSED_KERNELS, tiling });
          const session = await Session.create(moec.device, plan, weights);
          for (const tokens of c.tokens) {
            const inputs = randomInputs(graph, tokens, tokens + 7, 16);
            const result = await session.run(inputs, { poison: true });
            const expected = reference(graph, inputs, weights);
            for (const [name, t] of expected.outputs) {
              const actual = result.outputs.get(name)!;
              expect(actual.shape).toEqual(t.shape);
              expect(relL2(actual.data, t.data), `${label}, T=${tokens}, ${name}`).toBeLessThan(
                1e-5,
              );
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

describe("tile counts (SizeExpr)", () => {
  it("ceil-divides at run time and folds constants", () => {
    const t = { coef: 2, syms: ["T"] };
    const tiles = tileCount(t, 8, 3, 4);
    expect(evalSize(tiles, { T: 1 })).toBe((1 + 3) * 4);
    expect(evalSize(tiles, { T: 8 })).toBe((2 + 3) * 4);
    expect(evalSize(tiles, { T: 0 })).toBe(0);
    expect(formatSize(tiles)).toBe("(ceil(T*2/8)+3)*4");
    expect(tileCount(constantSize(17), 8, 0, 2)).toEqual(constantSize(6));
    expect(evalSize(mulSize(tiles, 2), { T: 8 })).toBe(40);
    expect(tileCount(t, 1)).toEqual(t);
  });

  it("dispatches exactly ceil(M / tm) row tiles per column block", () => {
    const graph = layerGraph("Linear(16, 300, bias = false)", 16, 300);
    const plan = buildPlan(runPipeline(graph, { level: 2 }).graph, BASELINE_PROFILE, {
      kernels: FUSED_KERNELS,
    });
    const cfg = chooseGemm(BASELINE_PROFILE, { out: 300, inner: 16, weights: 1 });
    const blocks = Math.ceil(300 / (cfg.wg * cfg.tn));
    const k = plan.kernels[0]!;
    expect(k.dispatch.perWorkgroup).toBe(1);
    for (const tokens of [1, cfg.tm, cfg.tm + 1, 1000])
      expect(evalSize(k.dispatch.items, { T: tokens })).toBe(Math.ceil(tokens / cfg.tm) * blocks);
  });
});
