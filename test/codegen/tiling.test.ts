// Codegen choices as data: CompileOptions.tiling fixes fields of every GEMM's tiling, the plan
// records what each tiled kernel got, and a tiling that cannot work is refused by name. The
// benchmarks find GEMMs and their shapes from these records (bench/gemm.ts largestGemm).
import { describe, expect, it } from "vitest";
import { largestGemm } from "../../bench/gemm.js";
import type { ModelResult } from "../../bench/measure.js";
import { CodegenError } from "../../compiler/codegen/kernels/common.js";
import { chooseGemm } from "../../compiler/codegen/kernels/gemm/tiling.js";
import { compileGraph } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/ir/graph.js";
import { layerModelGraph } from "../../compiler/layerModel.js";
import { memoryHost } from "../../compiler/sources.js";
import { BASELINE_PROFILE } from "../../plan/profile.js";

function layerGraph(layer: string, dim: number, out: number): Graph {
  return layerModelGraph(layer, dim, memoryHost({}), { out });
}

describe("GEMM tilings in the plan", () => {
  const dense = layerGraph("Linear(64, 96, bias = false)", 64, 96);

  it("records the default tiling, the GEMM's shape and nothing at -O0", () => {
    const { plan } = compileGraph(dense, { level: 2 });
    const expected = chooseGemm(BASELINE_PROFILE, { out: 96, inner: 64, weights: 1 });
    expect(plan.kernels.map((k) => k.gemm)).toEqual([
      { out: 96, inner: 64, weights: 1, tiling: expected },
    ]);
    expect(plan.shaders[plan.kernels[0]!.shader]!.workgroupSize[0]).toBe(expected.wg);
    expect(compileGraph(dense, { level: 0 }).plan.kernels.every((k) => !k.gemm)).toBe(true);
  });

  it("lays fixed fields over the default and emits that tiling", () => {
    const { plan } = compileGraph(dense, { tiling: { gemm: { tm: 4, tn: 2, wg: 16 } } });
    const k = plan.kernels[0]!;
    expect(k.gemm!.tiling).toMatchObject({ tm: 4, tn: 2, wg: 16, vec: 4, share: 0 });
    expect(plan.shaders[k.shader]!.workgroupSize[0]).toBe(16);
  });

  it("records a gated pair with both weight matrices", () => {
    const glu = layerGraph("FFN(32, 48, act = silu, gated = true)", 32, 32);
    const gemms = compileGraph(glu).plan.kernels.flatMap((k) => (k.gemm ? [k.gemm] : []));
    expect(gemms.map(({ out, inner, weights }) => [out, inner, weights])).toEqual([
      [48, 32, 2],
      [32, 48, 1],
    ]);
  });

  it("refuses a tiling that does not fit, naming it", () => {
    const odd = layerGraph("Linear(30, 8, bias = false)", 30, 8);
    expect(() => compileGraph(odd, { tiling: { gemm: { vec: 4 } } })).toThrow(CodegenError);
    expect(() => compileGraph(odd, { tiling: { gemm: { vec: 4 } } })).toThrow(
      /tiling tm=\d+ tn=\d+ wg=\d+ vec=4 share=0 does not fit 8x30: vec must .* divide 30/,
    );
    expect(() => compileGraph(dense, { tiling: { gemm: { share: 8 } } })).toThrow(
      /subgroup sharing needs the subgroups feature/,
    );
    expect(() => compileGraph(dense, { tiling: { gemm: { wg: 4096 } } })).toThrow(
      /wg exceeds the device's 256 invocations/,
    );
  });
});

describe("benchmarks find GEMMs from the plan", () => {
  it("takes the kernel with the most multiply-adds and its dense-equivalent shape", () => {
    const glu = layerGraph("FFN(32, 48, act = silu, gated = true)", 32, 32);
    const { graph, plan } = compileGraph(glu);
    const rows = 100;
    // Multiply-adds per kernel as costs.ts counts them: the gated pair does both products.
    const macs = plan.kernels.map((k) =>
      k.gemm ? rows * k.gemm.out * k.gemm.weights * k.gemm.inner : 0,
    );
    const kernels = plan.kernels.map((k, i) => ({ name: k.name, macs: macs[i]! }));
    const result = { plan, graph, kernels } as unknown as ModelResult;
    const found = largestGemm(result)!;
    expect(found.kernel.name).toBe(plan.kernels.find((k) => k.gemm?.weights === 2)!.name);
    expect(found.dims).toEqual({ rows, inner: 32, out: 96 });
  });
});
