// Training graphs of Hugging Face architectures against transformers' own autograd: each f32
// fixture's config imported as a spec, its checkpoint loaded as it is on disk, the training graph
// (mean next-token cross-entropy, no balance term) run on Dawn at -O0 and -O2 with outputs
// poisoned, and the loss and every parameter's gradient compared with the float64 gradients that
// torch computed on the transformers model (scripts/hf-fixtures/make_grads.py wrote them to
// grads.safetensors). Grouped-query attention, q/k norms, biases, the shared expert's gate,
// tied embeddings, DeepSeek's latent attention, interleaved rope and grouped sigmoid routing.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileTraining } from "../../compiler/autodiff/compileTraining.js";
import { trainingGraph } from "../../compiler/autodiff/train.js";
import { compileGraph } from "../../compiler/compile.js";
import { folderOf } from "../../cli/checkpoint.js";
import { readCheckpoint } from "../../runtime/checkpoint.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { parseSafetensors, toFloat64 } from "../../runtime/safetensors/read.js";
import { Session } from "../../runtime/session.js";
import { DEFAULT_OPTIMIZER } from "../../runtime/train/schedule.js";
import { Trainer } from "../../runtime/train/trainer.js";
import { relL2 } from "../runtime/helpers.js";
import {
  SUPPORTED,
  fixtureDir,
  lowerSpec,
  removeTempDirs,
  tempDir,
  writeImportedSpec,
} from "./helpers.js";

afterAll(removeTempDirs);

/**
 * Per tensor, rel. L2 of moec's f32 gradient against torch's float64 one. Measured on lavapipe: the
 * worst tensor of each fixture 1.3e-6 to 4.2e-6 at -O0 and -O2; the loss within 2e-7.
 */
const BOUND = 1e-4;

interface GradReference {
  readonly input_ids: number[];
  readonly targets: number[];
  readonly loss: number;
}

/** torch's gradient of every parameter, by the checkpoint's names (experts one by one). */
function referenceGrads(name: string): Map<string, Float64Array> {
  const file = parseSafetensors(
    readFileSync(path.join(fixtureDir(name), "grads.safetensors")),
    `${name}/grads.safetensors`,
  );
  return new Map([...file.tensors].map(([n, t]) => [n, toFloat64(t, n)]));
}

/** A fixture's reference gradients and checkpoint, read once for both levels. */
const fixtures = new Map<string, ReturnType<typeof readFixture>>();
function readFixture(name: string) {
  const ref = JSON.parse(
    readFileSync(path.join(fixtureDir(name), "grads.json"), "utf8"),
  ) as GradReference;
  return { ref, want: referenceGrads(name), weights: readCheckpoint(folderOf(fixtureDir(name))) };
}
function fixture(name: string): ReturnType<typeof readFixture> {
  if (!fixtures.has(name)) fixtures.set(name, readFixture(name));
  return fixtures.get(name)!;
}

let moec: MoecDevice;
beforeAll(async () => {
  moec = await createNodeDevice();
});
afterAll(() => moec?.device.destroy());

describe("training graphs of Hugging Face architectures vs transformers' autograd", () => {
  const specDir = tempDir("training");
  for (const name of SUPPORTED) {
    for (const level of [0, 2] as const) {
      it(
        `${name} -O${level}: loss and every parameter's gradient`,
        { timeout: 180_000 },
        async () => {
          const { ref, want, weights } = fixture(name);
          const forward = lowerSpec(writeImportedSpec(name, specDir));
          const train = trainingGraph(forward, { balanceCoef: 0 });
          const { plan } = compileGraph(train, { level });
          const session = await Session.create(moec.device, plan, weights);
          const ints = (xs: number[]) => ({ shape: [xs.length], data: Int32Array.from(xs) });
          const result = await session.run(
            new Map([
              ["ids", ints(ref.input_ids)],
              ["targets", ints(ref.targets)],
            ]),
            { poison: true },
          );
          session.destroy();
          const loss = result.outputs.get("ce_loss")!.data[0]!;
          expect(Math.abs(loss - ref.loss) / ref.loss, "loss").toBeLessThan(1e-5);

          let compared = 0;
          for (const [output, got] of result.outputs) {
            if (!output.startsWith("grad.")) continue;
            const weight = output.slice("grad.".length);
            // A stacked expert bank's gradient holds each expert's in turn.
            const parts = weight.includes("{e}")
              ? Array.from({ length: got.shape[0]! }, (_, e) => weight.replace("{e}", String(e)))
              : [weight];
            const size = got.data.length / parts.length;
            parts.forEach((part, e) => {
              const reference = want.get(part);
              const mine = got.data.subarray(e * size, (e + 1) * size);
              expect(mine.every(Number.isFinite), `${part} unwritten?`).toBe(true);
              if (reference === undefined) {
                // A buffer in transformers, not a parameter (DeepSeek's selection bias): it only
                // selects experts, so no gradient reaches it here either (and AdamW, which does
                // not decay biases, leaves it as it is).
                expect(
                  mine.every((x) => x === 0),
                  `${part} is not a torch parameter`,
                ).toBe(true);
                return;
              }
              if (reference!.every((x) => x === 0)) {
                // An expert no token chose: no gradient in torch, exact zeros here.
                expect(
                  mine.every((x) => x === 0),
                  `${part} should be zero`,
                ).toBe(true);
              } else {
                expect(relL2(mine, reference!), part).toBeLessThan(BOUND);
              }
              compared++;
            });
          }
          // Every parameter torch has was compared (tied embeddings are one parameter in both).
          expect(compared).toBe(want.size);
          expect(moec.errors).toEqual([]);
        },
      );
    }
  }
});

// DeepSeek-V3 trains its selection bias by load, not by gradient (auxiliary-loss-free balancing,
// arXiv 2412.19437): after each step, bias_e += γ·sign(mean load - load_e). The expected biases are
// computed here in float64 from the kept-assignment counts each step reports.
describe("DeepSeek-V3's selection bias under training", () => {
  const specDir = tempDir("bias");
  it("moves by γ against each expert's load, step by step; γ = 0 leaves it as it is", async () => {
    const { ref, weights } = fixture("deepseek_v3");
    const plan = compileTraining(lowerSpec(writeImportedSpec("deepseek_v3", specDir)));
    const batch = [{ ids: Int32Array.from(ref.input_ids), targets: Int32Array.from(ref.targets) }];
    const biases = plan.params
      .map((p) => p.name)
      .filter((n) => n.endsWith(".e_score_correction_bias"));
    expect(biases.length).toBe(2); // the two MoE layers
    for (const gamma of [0.01, 0]) {
      const config = { ...DEFAULT_OPTIMIZER, lr: 1e-3, steps: 3, biasUpdate: gamma };
      const trainer = await Trainer.create(moec.device, plan, weights, config);
      const before = await trainer.weights();
      const expected = new Map(biases.map((n) => [n, Float64Array.from(before.get(n)!)]));
      let moved = 0;
      for (let step = 0; step < 3; step++) {
        const r = await trainer.step(batch);
        for (const site of r.activeExperts) {
          const bias = expected.get(`${site.scope}.e_score_correction_bias`)!;
          const load = bias.map((_, e) => site.counts.reduce((s, head) => s + head[e]!, 0));
          const mean = load.reduce((a, b) => a + b, 0) / load.length;
          load.forEach((l, e) => {
            bias[e]! += gamma * Math.sign(mean - l);
            if (l !== mean) moved++;
          });
        }
      }
      const after = await trainer.weights();
      trainer.destroy();
      for (const name of biases) {
        const got = after.get(name)!;
        if (gamma === 0) expect(Array.from(got), name).toEqual(Array.from(before.get(name)!));
        else
          got.forEach((v, e) =>
            expect(Math.abs(v - expected.get(name)![e]!), `${name}[${e}]`).toBeLessThan(1e-6),
          );
      }
      expect(moved).toBeGreaterThan(0);
    }
    expect(moec.errors).toEqual([]);
  });
});
