// A training step on the GPU: AdamW with warm-up, cosine decay and global-norm clipping against
// an independent float64 implementation fed by the reference's gradients; a tiny language model
// driving the loss on one fixed batch near zero; two runs from one seed give bitwise-equal weights.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileTraining } from "../../compiler/autodiff/compileTraining.js";
import { trainingGraph } from "../../compiler/autodiff/train.js";
import { runReference } from "../../compiler/ir/interpret.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import {
  DEFAULT_OPTIMIZER,
  type OptimizerConfig,
  learningRate,
} from "../../runtime/train/schedule.js";
import { Trainer } from "../../runtime/train/trainer.js";
import { initWeights } from "../../runtime/weights.js";
import { loadGraph, relL2 } from "../runtime/helpers.js";
import { TINY_LM, randomIds } from "./gradcheck.js";

const ids = (values: ArrayLike<number>) => Int32Array.from(values);

describe("learning-rate schedule", () => {
  it("warms up linearly, then decays along a cosine to the floor", () => {
    const c: OptimizerConfig = { ...DEFAULT_OPTIMIZER, lr: 1e-3, warmup: 10, steps: 110 };
    expect(learningRate(1, c)).toBeCloseTo(1e-4, 15);
    expect(learningRate(10, c)).toBeCloseTo(1e-3, 15);
    expect(learningRate(60, c)).toBeCloseTo(1e-4 + 0.5 * 9e-4, 15);
    expect(learningRate(110, c)).toBeCloseTo(1e-4, 15);
    expect(learningRate(500, c)).toBeCloseTo(1e-4, 15);
  });
});

describe("training on the GPU", { timeout: 120_000 }, () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
  });
  afterAll(() => moec?.device.destroy());

  it("one AdamW step with clipping matches float64 AdamW on the reference gradients", async () => {
    const forward = loadGraph("models/lm_mh_moe.moe", TINY_LM);
    const plan = compileTraining(forward);
    const weights = initWeights(plan.step, 5);
    const config: OptimizerConfig = {
      ...DEFAULT_OPTIMIZER,
      lr: 1e-2,
      warmup: 4,
      steps: 20,
      maxGradNorm: 0.05, // small, so clipping is active
    };
    // Two sequences: the step averages their gradients (summed on the GPU in a fixed order).
    const batch = [1, 3].map((seed) => ({
      ids: ids(randomIds(7, 16, seed).data),
      targets: ids(randomIds(7, 16, seed + 1).data),
    }));
    const trainer = await Trainer.create(moec.device, plan, weights, config);
    const result = await trainer.step(batch);
    const after = await trainer.weights();
    const gpuNorm = await trainer.gradNorm();

    const f64 = (shape: readonly number[], data: ArrayLike<number>) => ({
      shape,
      data: Float64Array.from(data),
    });
    const shapes = new Map(
      plan.step.buffers.flatMap((b) => (b.kind === "weight" ? [[b.name, b.shape]] : [])),
    );
    const refWeights = new Map([...weights].map(([k, w]) => [k, f64(shapes.get(k)!, w)]));
    const runs = batch.map(
      (sequence) =>
        runReference(
          trainingGraph(forward),
          new Map([
            ["ids", f64([7], sequence.ids)],
            ["targets", f64([7], sequence.targets)],
          ]),
          refWeights,
        ).outputs,
    );
    const mean = (name: string) => {
      const [a, b] = runs.map((r) => r.get(name)!.data);
      return { data: a!.map((v, i) => (v + b![i]!) / 2) };
    };
    const ref = new Map([...runs[0]!.keys()].map((name) => [name, mean(name)]));
    expect(result.loss).toBeCloseTo(ref.get("loss")!.data[0]!, 4);
    let sumSquares = 0;
    for (const p of plan.params) for (const g of ref.get(p.grad)!.data) sumSquares += g * g;
    const norm = Math.sqrt(sumSquares);
    expect(Math.abs(gpuNorm - norm) / norm).toBeLessThan(1e-4);
    const clip = Math.min(1, config.maxGradNorm / (norm + 1e-6));
    expect(clip).toBeLessThan(1);
    const lr = learningRate(1, config);
    expect(result.lr).toBe(lr);
    for (const p of plan.params) {
      const w0 = weights.get(p.name)!;
      const g = ref.get(p.grad)!.data;
      const expected = new Float64Array(w0.length);
      const actual = new Float64Array(w0.length);
      for (let i = 0; i < w0.length; i++) {
        const gi = g[i]! * clip;
        const m = (1 - config.beta1) * gi;
        const v = (1 - config.beta2) * gi * gi;
        const update = m / (1 - config.beta1) / (Math.sqrt(v / (1 - config.beta2)) + config.eps);
        const decay = p.decay ? config.weightDecay * w0[i]! : 0;
        expected[i] = -lr * (update + decay);
        actual[i] = after.get(p.name)![i]! - w0[i]!;
      }
      expect(relL2(actual, expected), p.name).toBeLessThan(1e-3);
    }
    trainer.destroy();
    expect(moec.errors).toEqual([]);
  });

  it("a tiny model drives the loss on one fixed batch near zero; equal seeds give equal weights", async () => {
    const forward = loadGraph("models/lm_smoe.moe", [...TINY_LM, "dim=16", "moe_ffn=16"]);
    const plan = compileTraining(forward);
    const config: OptimizerConfig = {
      ...DEFAULT_OPTIMIZER,
      lr: 2e-2,
      warmup: 5,
      steps: 120,
      weightDecay: 0,
    };
    const batch = { ids: ids(randomIds(8, 16, 3).data), targets: ids(randomIds(8, 16, 4).data) };
    const train = async () => {
      const trainer = await Trainer.create(moec.device, plan, initWeights(plan.step, 11), config);
      const losses: number[] = [];
      for (let s = 0; s < config.steps; s++) losses.push((await trainer.step([batch])).ceLoss);
      const weights = await trainer.weights();
      trainer.destroy();
      return { losses, weights };
    };
    const first = await train();
    expect(first.losses[0]).toBeGreaterThan(2); // ln 16 = 2.77 at random initialisation
    expect(first.losses.at(-1)).toBeLessThan(0.05);
    const second = await train();
    expect(second.losses).toEqual(first.losses);
    for (const [name, w] of first.weights) {
      expect(new Uint32Array(second.weights.get(name)!.buffer), name).toEqual(
        new Uint32Array(w.buffer),
      );
    }
    expect(moec.errors).toEqual([]);
  });
});
