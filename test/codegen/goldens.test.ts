// Golden files of the back end, for every shipped model at a small configuration, compiled
// against the frozen baseline profile (not the live adapter): the optimised IR, the plan at -O0
// and -O2, and every distinct WGSL shader. The same run compiles each golden shader in Dawn and
// requires zero errors, so a golden can't look right and be broken.
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASELINE_PROFILE } from "../../compiler/codegen/profile.js";
import { type Compiled, compileGraph } from "../../compiler/compile.js";
import { printGraph } from "../../compiler/ir/print.js";
import { type Plan, printPlan } from "../../compiler/plan.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { assertRepoRoot, GoldenDir } from "../helpers/golden.js";
import { loadGraph } from "../runtime/helpers.js";

assertRepoRoot();

/** Small sizes keep goldens reviewable (design: cases under ~150 WGSL lines each). */
const LAYER = ["dim=16", "experts=4", "ffn=16"];
const LM = ["vocab=32", "dim=16", "layers=2", "attn_heads=2", "experts=4", "moe_ffn=16"];
const CONFIG: Record<string, string[]> = {
  smoe: LAYER,
  fine_grained: [...LAYER, "shared=1"],
  mh_moe: LAYER,
  mh_moe_parity: [...LAYER, "capacity=1.25"],
  mh_moe_depth: LAYER,
  mh_moe_parity_ablation: LAYER,
  smoe_bitnet: [...LAYER, "top_k=2"],
  mh_moe_bitnet: LAYER,
  lm_smoe: LM,
  lm_fine_grained: LM,
  lm_mh_moe: LM,
};

const MODELS = readdirSync("models")
  .filter((f) => f.endsWith(".moe"))
  .map((f) => f.slice(0, -".moe".length))
  .sort();

function compiled(model: string, level: 0 | 2): Compiled {
  const sets = CONFIG[model];
  if (!sets) throw new Error(`add a small configuration for models/${model}.moe to CONFIG`);
  return compileGraph(loadGraph(`models/${model}.moe`, sets), { level, profile: BASELINE_PROFILE });
}

/** Every distinct shader of a plan, each headed by the kernels that dispatch it. */
function shaderText(plan: Plan): string {
  return plan.shaders
    .map((shader, i) => {
      const users = plan.kernels.filter((k) => k.shader === i).map((k) => k.name);
      return `// ===== shader s${i}: ${users.join(", ")}\n${shader.wgsl}`;
    })
    .join("\n");
}

describe("back-end goldens", () => {
  const optimised = new GoldenDir("ir-O2");
  const plans = new GoldenDir("plan");
  const wgsl = new GoldenDir("wgsl");
  for (const model of MODELS) {
    optimised.test(`${model}.txt`, () => printGraph(compiled(model, 2).graph));
    for (const level of [0, 2] as const) {
      plans.test(`${model}.O${level}.txt`, () => printPlan(compiled(model, level).plan));
      wgsl.test(`${model}.O${level}.wgsl`, () => shaderText(compiled(model, level).plan));
    }
  }
  optimised.checkOrphans();
  plans.checkOrphans();
  wgsl.checkOrphans();
});

describe("golden shaders compile in Dawn", () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
  });
  afterAll(() => moec?.device.destroy());

  for (const level of [0, 2] as const) {
    it(`every -O${level} shader of every shipped model has zero compilation errors`, async () => {
      const seen = new Set<string>();
      for (const model of MODELS) {
        for (const shader of compiled(model, level).plan.shaders) {
          if (seen.has(shader.wgsl)) continue;
          seen.add(shader.wgsl);
          const module = moec.device.createShaderModule({ code: shader.wgsl });
          const errors = (await module.getCompilationInfo()).messages.filter(
            (m) => m.type === "error",
          );
          expect(
            errors.map((e) => `${e.lineNum}:${e.linePos} ${e.message}`),
            model,
          ).toEqual([]);
        }
      }
      expect(seen.size).toBeGreaterThan(5);
    }, 120_000);
  }
});
