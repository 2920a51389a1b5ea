// The parity numbers of design.md section 4 (Huang et al. 2024, arXiv 2411.16205), computed here
// by hand from the layer formulas and compared with what compiler/costs.ts measures on the IR.
// d = 768, SwiGLU experts (3 matrices each: gate, up [f, w]; down [w, f]; no bias), where w is the
// width an expert sees: d for SMoE and fine-grained, d / h for MH-MoE.
import { describe, expect, it } from "vitest";
import { nodeHost } from "../../compiler/node/host.js";
import { compareCosts, modelCost, type ModelCost } from "../../compiler/costs.js";
import { compileToIR } from "../../compiler/index.js";

const d = 768;

interface Config {
  readonly file: string;
  readonly overrides?: string[];
  /** Sub-tokens per token (1 unless MH-MoE). */
  readonly h: number;
  readonly experts: number;
  readonly topK: number;
  readonly ffn: number;
  /** d x d head and merge projections (MH-MoE), with or without bias. */
  readonly projections: "none" | "no-bias" | "bias";
}

const SMOE: Config = {
  file: "models/smoe.moe",
  h: 1,
  experts: 8,
  topK: 1,
  ffn: 2048,
  projections: "none",
};
const FINE: Config = {
  file: "models/fine_grained.moe",
  h: 1,
  experts: 16,
  topK: 2,
  ffn: 1024,
  projections: "none",
};
const MH2: Config = {
  file: "models/mh_moe_parity.moe",
  h: 2,
  experts: 40,
  topK: 2,
  ffn: 768,
  projections: "no-bias",
};
const MH3: Config = {
  file: "models/mh_moe_parity.moe",
  overrides: ["heads=3", "experts=96", "ffn=512", "top_k=3"],
  h: 3,
  experts: 96,
  topK: 3,
  ffn: 512,
  projections: "no-bias",
};
// The NeurIPS form: 4 heads, 8 experts of width 7936, top-1, head and merge with bias.
const MH_NEURIPS: Config = {
  file: "models/mh_moe.moe",
  h: 4,
  experts: 8,
  topK: 1,
  ffn: 7936,
  projections: "bias",
};

/** By hand: multiply-adds per token without the router, parameters without the router, router. */
function byHand(c: Config) {
  const w = d / c.h;
  const expertMacs = c.h * c.topK * 3 * w * c.ffn; // h sub-tokens, k experts each, 3 matmuls
  const expertParams = c.experts * 3 * w * c.ffn;
  const projMacs = c.projections === "none" ? 0 : 2 * d * d;
  const projParams =
    c.projections === "none" ? 0 : 2 * d * d + (c.projections === "bias" ? 2 * d : 0);
  return {
    macs: expertMacs + projMacs,
    params: expertParams + projParams,
    expertParams,
    routerParams: c.experts * w,
    routerMacs: c.h * c.experts * w,
  };
}

const costCache = new Map<Config, ModelCost>();
function measured(c: Config): ModelCost {
  if (!costCache.has(c)) {
    const r = compileToIR(c.file, nodeHost, { overrides: c.overrides ?? [] });
    expect(r.diagnostics).toEqual([]);
    costCache.set(c, modelCost(r.graph!));
  }
  return costCache.get(c)!;
}

describe("hand-computed costs of the paper's configurations", () => {
  it("the closed forms give the paper's numbers", () => {
    // SMoE: 3 · 768 · 2048 = 4,718,592 multiply-adds per token; 8 experts of that size.
    expect(byHand(SMOE).macs).toBe(3 * 768 * 2048);
    expect(byHand(SMOE).macs).toBe(4_718_592);
    expect(byHand(SMOE).params).toBe(37_748_736);
    // MH-MoE h = 2: 2 · 768² + 2 · 2 · 3 · 384 · 768 (head and merge, then 2 sub-tokens x top-2).
    expect(byHand(MH2).macs).toBe(2 * 768 ** 2 + 2 * 2 * 3 * 384 * 768);
    expect(byHand(MH2).macs).toBe(4_718_592);
    expect(byHand(MH2).params).toBe(36_569_088);
    // All four configurations of the paper cost exactly the same per token.
    for (const c of [FINE, MH3]) expect(byHand(c).macs).toBe(4_718_592);
    // Parameters agree within 3.1% (exactly 1/32 either way for the MH-MoE variants).
    expect(byHand(FINE).params).toBe(37_748_736);
    expect(byHand(MH3).params).toBe(38_928_384);
    expect(byHand(MH2).params / byHand(SMOE).params - 1).toBe(-1 / 32);
    expect(byHand(MH3).params / byHand(SMOE).params - 1).toBe(1 / 32);
  });

  const cases: [string, Config][] = [
    ["SMoE (8 x 2048, top-1)", SMOE],
    ["fine-grained (16 x 1024, top-2)", FINE],
    ["MH-MoE h=2 (40 x 768, top-2)", MH2],
    ["MH-MoE h=3 (96 x 512, top-3)", MH3],
    ["MH-MoE NeurIPS form (h=4, 8 x 7936, top-1, bias)", MH_NEURIPS],
  ];
  for (const [label, c] of cases) {
    it(`modelCost matches the closed form: ${label}`, () => {
      const want = byHand(c);
      const got = measured(c);
      expect(got.macsPerToken - got.routerMacsPerToken).toBe(want.macs);
      expect(got.routerMacsPerToken).toBe(want.routerMacs);
      expect(got.params - got.routerParams).toBe(want.params);
      expect(got.routerParams).toBe(want.routerParams);
      expect(got.expertParams).toBe(want.expertParams);
      expect(got.params).toBe(want.params + want.routerParams);
      // Every multiply-add is at least two FLOPs.
      expect(got.flopsPerToken).toBeGreaterThanOrEqual(2 * got.macsPerToken);
    });
  }
});

describe("parity verdicts", () => {
  it("fine-grained and both MH-MoE parity variants are at parity with the SMoE", () => {
    for (const c of [FINE, MH2, MH3]) {
      const report = compareCosts(measured(SMOE), measured(c));
      expect(report.atParity, `${c.file} ${c.overrides ?? ""}`).toBe(true);
    }
  });

  it("reports the parameter difference of MH-MoE h=2 as -3.13%", () => {
    const report = compareCosts(measured(SMOE), measured(MH2));
    expect(report.lines.join("\n")).toMatch(
      /parameters \(no router\)\s+37,748,736\s+36,569,088\s+-3\.13%/,
    );
  });

  it("the NeurIPS form matches parameters but costs 4.125x the multiply-adds: not at parity", () => {
    const a = measured(SMOE);
    const b = measured(MH_NEURIPS);
    expect((b.macsPerToken - b.routerMacsPerToken) / (a.macsPerToken - a.routerMacsPerToken)).toBe(
      4.125,
    );
    expect(Math.abs((b.params - b.routerParams) / (a.params - a.routerParams) - 1)).toBeLessThan(
      0.001,
    );
    const report = compareCosts(a, b);
    expect(report.atParity).toBe(false);
    expect(report.lines.at(-1)).toMatch(
      /^NOT at parity: multiply-adds per token differ by \+312\.50%$/,
    );
  });

  it("parameters just outside the tolerance are not at parity", () => {
    // MH-MoE h=2 differs by exactly 3.125%.
    expect(compareCosts(measured(SMOE), measured(MH2), 0.0313).atParity).toBe(true);
    expect(compareCosts(measured(SMOE), measured(MH2), 0.0312).atParity).toBe(false);
  });
});
