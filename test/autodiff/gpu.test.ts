// The -O0 backward kernels on Dawn against the float64 reference's own backward: every op's VJP
// graph and the tiny language models' training graphs (loss and every weight gradient), the
// latter also through the -O2 pass pipeline; output buffers poisoned first, by relative L2
// error; two runs give bitwise-identical gradients.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trainingGraph } from "../../compiler/autodiff/train.js";
import { compileGraph } from "../../compiler/compile.js";
import { runReference } from "../../compiler/ir/interpret.js";
import type { RefTensor } from "../../compiler/ir/ops.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { type RunResult, Session } from "../../runtime/session.js";
import { bitsOf, loadGraph, relL2 } from "../runtime/helpers.js";
import { GRAD_CASES } from "./cases.js";
import { EXTRA_GRAD_CASES } from "./extraCases.js";
import {
  TINY_LM,
  toDevice,
  randomCotangents,
  randomIds,
  randomWeights,
  vjpGraph,
} from "./gradcheck.js";

function compare(result: RunResult, expected: ReadonlyMap<string, RefTensor>, tolerance: number) {
  for (const [name, want] of expected) {
    const got = result.outputs.get(name)!;
    expect(got.shape, name).toEqual(want.shape);
    if (got.data instanceof Int32Array) {
      expect(Array.from(got.data), name).toEqual(Array.from(want.data));
      continue;
    }
    expect(got.data.every(Number.isFinite), `${name} has NaN/Inf (unwritten?)`).toBe(true);
    expect(relL2(got.data, want.data), name).toBeLessThan(tolerance);
  }
}

describe("backward kernels vs the float64 reference", { timeout: 60_000 }, () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
  });
  afterAll(() => moec?.device.destroy());

  for (const { title, build } of [...GRAD_CASES, ...EXTRA_GRAD_CASES]) {
    it(`VJP of ${title}`, async () => {
      const c = build();
      const vjp = vjpGraph(c.graph);
      const cotangents = randomCotangents(c.graph, c.leaves, 5);
      const all = {
        inputs: new Map([...c.leaves.inputs, ...cotangents]),
        weights: c.leaves.weights,
      };
      const data = toDevice(vjp, all);
      const plan = compileGraph(vjp, { level: 0 }).plan;
      const session = await Session.create(moec.device, plan, data.weights);
      const result = await session.run(data.inputs, { poison: true });
      compare(result, runReference(vjp, data.refInputs, data.refWeights).outputs, 1e-5);
      session.destroy();
      expect(moec.errors).toEqual([]);
    });
  }

  const MODELS = [
    { file: "models/lm_smoe.moe", sets: TINY_LM },
    { file: "models/lm_smoe.moe", sets: [...TINY_LM, "top_k=2", "capacity=1.0"] },
    { file: "models/lm_fine_grained.moe", sets: TINY_LM },
    { file: "models/lm_mh_moe.moe", sets: TINY_LM },
  ];
  for (const { file, sets, level } of [
    ...MODELS.map((m) => ({ ...m, level: 0 as const })),
    ...MODELS.map((m) => ({ ...m, level: 2 as const })),
  ]) {
    const extra = `${sets.slice(TINY_LM.length).join(" ")} -O${level}`;
    it(`training graph of ${file} ${extra}: loss and every weight gradient, reproducible`, async () => {
      const forward = loadGraph(file, sets);
      const train = trainingGraph(forward);
      const tokens = 7;
      const leaves = {
        inputs: new Map([
          ["ids", randomIds(tokens, 16, 1)],
          ["targets", randomIds(tokens, 16, 2)],
        ]),
        weights: randomWeights(forward, 3, 0.5),
      };
      const data = toDevice(train, leaves);
      const plan = compileGraph(train, { level }).plan;
      const session = await Session.create(moec.device, plan, data.weights);
      const first = await session.run(data.inputs, { poison: true });
      const ref = runReference(train, data.refInputs, data.refWeights);
      expect(ref.outputs.size).toBe(2 + leaves.weights.size);
      compare(first, ref.outputs, 1e-4);
      const second = await session.run(data.inputs, { poison: true });
      for (const [name, t] of first.outputs) {
        expect(bitsOf(second.outputs.get(name)!), name).toEqual(bitsOf(t));
      }
      session.destroy();
      expect(moec.errors).toEqual([]);
    });
  }
});
