// Golden files of the back end, for every shipped model at a small configuration, compiled
// against the frozen baseline profile (not the live adapter): the optimised IR, the plan at -O0
// and -O2, and the WGSL. Each distinct shader is stored once, in wgsl/shaders/, under what it
// computes and a hash of its text; wgsl/<model>.O<level>.txt names the shaders the model's plan
// uses and the kernels that dispatch each, so a kernel change shows up once in a diff. The same
// run compiles each golden shader in Dawn and requires zero errors, so a golden can't look right
// and be broken.
import { createHash } from "node:crypto";
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
  xmoe: [
    ...LAYER,
    "xmoe=4",
    "gating=sigmoid",
    "capacity=0.25",
    "capacity_rule=fraction",
    "admit=token",
  ],
  lm_smoe: LM,
  lm_fine_grained: LM,
  lm_mh_moe: LM,
};

const MODELS = readdirSync("models")
  .filter((f) => f.endsWith(".moe"))
  .map((f) => f.slice(0, -".moe".length))
  .sort();

const compiledCache = new Map<string, Compiled>();

function compiled(model: string, level: 0 | 2): Compiled {
  const key = `${model}.O${level}`;
  const cached = compiledCache.get(key);
  if (cached) return cached;
  const sets = CONFIG[model];
  if (!sets) throw new Error(`add a small configuration for models/${model}.moe to CONFIG`);
  const result = compileGraph(loadGraph(`models/${model}.moe`, sets), {
    level,
    profile: BASELINE_PROFILE,
  });
  compiledCache.set(key, result);
  return result;
}

/** What kernel `k` computes: its name without the index prefix and the scope suffix. */
function kernelLabel(c: Compiled, k: Plan["kernels"][number]): string {
  const scope = c.graph.nodes.find((n) => n.id === k.nodes[0])?.scope ?? "";
  const name = k.name.replace(/^k\d+_/, "");
  return scope && name.endsWith(`_${scope}`) ? name.slice(0, -scope.length - 1) : name;
}

const hashOf = (wgsl: string) => createHash("sha256").update(wgsl).digest("hex").slice(0, 8);

/**
 * The golden file of every distinct shader text of the shipped models: `<label>.<hash>.wgsl`,
 * the label the alphabetically first among the kernels that dispatch it, so the name depends on
 * the text and what computes it, not on which model the test meets first.
 */
function shaderFiles(): Map<string, string> {
  const labels = new Map<string, Set<string>>();
  for (const model of MODELS) {
    for (const level of [0, 2] as const) {
      let c: Compiled;
      try {
        c = compiled(model, level);
      } catch {
        continue; // the model's own tests report the error
      }
      for (const k of c.plan.kernels) {
        const wgsl = c.plan.shaders[k.shader]!.wgsl;
        const set = labels.get(wgsl) ?? new Set<string>();
        set.add(kernelLabel(c, k));
        labels.set(wgsl, set);
      }
    }
  }
  const files = new Map<string, string>();
  const taken = new Set<string>();
  for (const [wgsl, set] of labels) {
    const file = `${[...set].sort()[0]}.${hashOf(wgsl)}.wgsl`;
    if (taken.has(file)) throw new Error(`two shader texts share the golden name ${file}`);
    taken.add(file);
    files.set(wgsl, file);
  }
  return files;
}

/** A plan's shaders by golden file, each with the kernels that dispatch it. */
function shaderManifest(plan: Plan, files: ReadonlyMap<string, string>): string {
  return plan.shaders
    .map((shader, i) => {
      const users = plan.kernels.filter((k) => k.shader === i).map((k) => k.name);
      return `s${i} shaders/${files.get(shader.wgsl) ?? "(not a golden)"}: ${users.join(", ")}\n`;
    })
    .join("");
}

describe("back-end goldens", () => {
  const optimised = new GoldenDir("ir-O2");
  const plans = new GoldenDir("plan");
  const wgsl = new GoldenDir("wgsl");
  const files = shaderFiles();
  for (const model of MODELS) {
    optimised.test(`${model}.txt`, () => printGraph(compiled(model, 2).graph));
    for (const level of [0, 2] as const) {
      plans.test(`${model}.O${level}.txt`, () => printPlan(compiled(model, level).plan));
      wgsl.test(`${model}.O${level}.txt`, () => shaderManifest(compiled(model, level).plan, files));
    }
  }
  for (const [text, file] of files) wgsl.test(`shaders/${file}`, () => text);
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
