// Hugging Face checkpoints end to end against transformers itself (test/fixtures/hf, float64
// references saved with the fixtures): each supported architecture's config.json imported as a
// spec, lowered for decoding, its weights read as they are on disk (one file, shards, tied
// embeddings, bf16, f16; DeepSeek-V3's latent attention, grouped sigmoid routing, dense first
// layer), then on Dawn at -O0 and -O2: the prompt's logits, the experts each prompt token chose
// in each MoE layer, and 24 greedy tokens with the KV cache.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { profileOfDevice } from "../../compiler/codegen/profile.js";
import { compileGraph } from "../../compiler/compile.js";
import type { Graph } from "../../compiler/ir/graph.js";
import type { OptLevel } from "../../compiler/passes/index.js";
import type { Plan } from "../../compiler/plan.js";
import { folderOf } from "../../cli/checkpoint.js";
import { readCheckpoint } from "../../runtime/checkpoint.js";
import type { MoecDevice } from "../../runtime/device.js";
import { generate } from "../../runtime/generate.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { type RunResult, Session } from "../../runtime/session.js";
import type { WeightData } from "../../runtime/weightUpload.js";
import {
  fixtureDir,
  logitsRelL2,
  lowerSpec,
  readReference,
  type Reference,
  type RouteSite,
  routeSites,
  rowsOf,
  sorted,
  SUPPORTED,
  removeTempDirs,
  tempDir,
  writeImportedSpec,
} from "./helpers.js";

afterAll(removeTempDirs);

/** The bound for f32 checkpoints (moec measures ~3e-7 to 9e-7 on every fixture). */
const F32_BOUND = 1e-4;
/**
 * Half-precision checkpoints against their own float64 references (computed from the rounded
 * weights, so only compute precision counts). Measured rel. L2 at -O0 and -O2 on lavapipe, with
 * f32 or f16 weights on the GPU alike (arithmetic is f32 either way): bf16 4.8e-7 to 5.1e-7,
 * f16 5.8e-7; the bound is ~10x that.
 */
const HALF_BOUND = 6e-6;

interface Case {
  /** The checkpoint folder. */
  readonly name: string;
  /** The folder whose reference.json it must match. */
  readonly reference: string;
  readonly bound: number;
  /** The weights' dtype on the GPU (CompileOptions.weights). */
  readonly gpuWeights: "f32" | "f16";
}
const CASES: readonly Case[] = [
  ...SUPPORTED.map((name) => ({
    name,
    reference: name,
    bound: F32_BOUND,
    gpuWeights: "f32" as const,
  })),
  ...(["mixtral_bf16", "mixtral_f16"] as const).flatMap((name) =>
    (["f32", "f16"] as const).map((gpuWeights) => ({
      name,
      reference: name,
      bound: HALF_BOUND,
      gpuWeights,
    })),
  ),
  // mixtral_f16 is mixtral's weights rounded to f16 by torch: an f32 checkpoint kept as f16 on
  // the GPU must round the same way, so it meets that reference (f32 mixtral's is 2.5e-2 away).
  { name: "mixtral", reference: "mixtral_f16", bound: HALF_BOUND, gpuWeights: "f16" },
];
const GREEDY_TOKENS = 24;
/** Hang guard for one test (compile, upload, a few dozen runs on a loaded 2-core lavapipe). */
const GUARD = 120_000;

let moec: MoecDevice;
beforeAll(async () => {
  moec = await createNodeDevice();
});
afterAll(() => moec?.device.destroy());

const specDir = tempDir("checkpoints");
const weightsOf = new Map<string, Map<string, WeightData>>();
/** A fixture's tensors, read once for both levels. */
function checkpointWeights(name: string): Map<string, WeightData> {
  let w = weightsOf.get(name);
  if (!w) weightsOf.set(name, (w = readCheckpoint(folderOf(fixtureDir(name)))));
  return w;
}

interface Compiled {
  readonly graph: Graph;
  readonly plan: Plan;
  readonly sites: readonly RouteSite[];
  readonly session: Session;
}

/** A plan of `lowered` at `level` that keeps every router's expert ids, and its session. */
async function open(
  lowered: Graph,
  level: OptLevel,
  weights: Map<string, WeightData>,
  gpuWeights: "f32" | "f16" = "f32",
): Promise<Compiled> {
  const { graph, plan } = compileGraph(lowered, {
    level,
    profile: profileOfDevice(moec),
    weights: gpuWeights,
    keep: (optimised) => routeSites(optimised).map((s) => s.expert),
  });
  const warnings: string[] = [];
  const session = await Session.create(moec.device, plan, weights, {
    warn: (m) => warnings.push(m),
  });
  expect(warnings, "loading the checkpoint warned").toEqual([]);
  return { graph, plan, sites: routeSites(graph), session };
}

/** One poisoned run of `ids` at positions start.., reading back every router's expert ids. */
function step(c: Compiled, ids: readonly number[], start?: number): Promise<RunResult> {
  const inputs = new Map([["ids", { shape: [ids.length], data: Int32Array.from(ids) }]]);
  if (start !== undefined)
    inputs.set("positions", {
      shape: [ids.length],
      data: Int32Array.from(ids, (_, i) => start + i),
    });
  return c.session.run(inputs, { poison: true, values: c.sites.map((s) => s.expert) });
}

/** Per MoE layer (the reference's order), per token of the run, the chosen experts as the plan ordered them. */
function chosenExperts(c: Compiled, ref: Reference, result: RunResult): number[][][] {
  expect(c.sites.length).toBe(ref.moe_layers.length);
  return c.sites.map((site, i) => {
    expect(site.scope).toContain(`layers.${ref.moe_layers[i]}.`);
    expect(site.topK).toBe(ref.top_k);
    expect(site.heads).toBe(1);
    return rowsOf(result.values.get(site.expert)!.data, site.topK);
  });
}

function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

for (const { name, reference, bound, gpuWeights } of CASES) {
  for (const level of [0, 2] as const) {
    const title = `${name} at -O${level}, ${gpuWeights} weights on the GPU, lowered for decoding, vs ${reference}'s float64 reference`;
    describe(title, () => {
      const ref = readReference(reference);
      const prompt = ref.input_ids;
      const vocab = ref.logits[0]!.length;
      let opened: Promise<Compiled> | undefined;
      const compiled = () =>
        (opened ??= open(
          lowerSpec(writeImportedSpec(name, specDir), {
            decode: { context: prompt.length + GREEDY_TOKENS },
          }),
          level,
          checkpointWeights(name),
          gpuWeights,
        ));
      let prefill: Promise<RunResult> | undefined;
      const prefilled = () => (prefill ??= compiled().then((c) => step(c, prompt, 0)));
      afterAll(async () => (await opened?.catch(() => undefined))?.session.destroy());
      /** f16 weights need the adapter's shader-f16 (lavapipe has it). */
      const needsF16 = (skip: (note?: string) => void) => {
        if (gpuWeights === "f16" && !moec.features.has("shader-f16")) skip("no shader-f16");
      };

      it(
        `prompt logits within rel. L2 ${bound}`,
        async ({ skip }) => {
          needsF16(skip);
          const weightTypes = (await compiled()).plan.buffers.flatMap((b) =>
            b.kind === "weight" ? [b.dtype] : [],
          );
          expect(new Set(weightTypes)).toEqual(new Set([gpuWeights]));
          const logits = (await prefilled()).outputs.get("logits")!;
          expect(logits.shape).toEqual([prompt.length, vocab]);
          const err = logitsRelL2(logits.data, ref.logits);
          expect(err).toBeLessThan(bound);
        },
        GUARD,
      );

      it(
        "each prompt token's experts in each MoE layer, best first",
        async ({ skip }) => {
          needsF16(skip);
          const got = chosenExperts(await compiled(), ref, await prefilled());
          // min_order_gap: transformers' own order inside the top k is well separated.
          expect(ref.min_order_gap).toBeGreaterThan(1e-3);
          got.forEach((tokens, i) => {
            expect(tokens, `MoE layer ${ref.moe_layers[i]}`).toEqual(
              ref.experts[String(ref.moe_layers[i])],
            );
          });
        },
        GUARD,
      );

      it(
        `generate(): ${GREEDY_TOKENS} greedy tokens with the KV cache, and the experts each fed-back token used`,
        async ({ skip }) => {
          needsF16(skip);
          const c = await compiled();
          const gen = await generate(c.session, prompt, {
            temperature: 0,
            maxTokens: GREEDY_TOKENS,
          });
          expect(gen.ids).toEqual(ref.greedy);
          expect(gen.stop).toBe("max_tokens");
          // routing[i]: generated token i fed back, i.e. sequence position prompt.length + i.
          expect(gen.routing.length).toBe(GREEDY_TOKENS - 1);
          gen.routing.forEach((sites, i) => {
            expect(sites.map((s) => s.scope)).toEqual(c.sites.map((s) => s.scope));
            sites.forEach((s, l) => {
              const want = ref.sequence_experts[String(ref.moe_layers[l])]![prompt.length + i]!;
              expect(s.experts, `token ${i}, ${s.scope}`).toEqual([sorted(want)]);
            });
          });
        },
        GUARD,
      );

      it(
        "step by step with poisoned buffers: each decode run's argmax and experts (best first)",
        async ({ skip }) => {
          needsF16(skip);
          const c = await compiled();
          let result = await step(c, prompt, 0);
          const out = [
            argmax(
              (result.outputs.get("logits")!.data as Float32Array).subarray(
                (prompt.length - 1) * vocab,
              ),
            ),
          ];
          while (out.length < GREEDY_TOKENS) {
            const position = prompt.length + out.length - 1;
            result = await step(c, [out[out.length - 1]!], position);
            expect(result.outputs.get("logits")!.shape).toEqual([1, vocab]);
            chosenExperts(c, ref, result).forEach((tokens, l) => {
              const want = ref.sequence_experts[String(ref.moe_layers[l])]![position];
              expect(tokens, `position ${position}, MoE layer ${ref.moe_layers[l]}`).toEqual([
                want,
              ]);
            });
            out.push(argmax(result.outputs.get("logits")!.data));
          }
          expect(out).toEqual(ref.greedy);
        },
        GUARD,
      );
    });
  }
}

// `moec run SPEC --weights DIR` lowers without a KV cache: the same spec, the same numbers.
describe.each([0, 2] as const)(
  "mixtral at -O%i without a KV cache (the moec run path)",
  (level) => {
    it(
      `prompt logits within rel. L2 ${F32_BOUND} and the same experts`,
      async () => {
        const ref = readReference("mixtral");
        const c = await open(
          lowerSpec(writeImportedSpec("mixtral", specDir)),
          level,
          checkpointWeights("mixtral"),
        );
        try {
          expect(c.plan.inputs.map((i) => i.name)).toEqual(["ids"]);
          expect(c.plan.buffers.some((b) => b.kind === "state")).toBe(false);
          const result = await step(c, ref.input_ids);
          expect(logitsRelL2(result.outputs.get("logits")!.data, ref.logits)).toBeLessThan(
            F32_BOUND,
          );
          chosenExperts(c, ref, result).forEach((tokens, i) => {
            expect(tokens).toEqual(ref.experts[String(ref.moe_layers[i])]);
          });
        } finally {
          c.session.destroy();
        }
      },
      GUARD,
    );
  },
);
