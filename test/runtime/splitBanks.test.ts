// Expert banks larger than one binding of the device profile are split by whole experts over
// several buffers; kernels bind every part and route each load. A profile with a tiny binding
// limit forces the split on small models, whose outputs must match the float64 reference as
// the unsplit plans do (-O0 and -O2, f32 and f16 weights; output buffers poisoned).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { profileOfDevice } from "../../compiler/codegen/profile.js";
import { compileGraph } from "../../compiler/compile.js";
import { weightDecls } from "../../compiler/ir/graph.js";
import type { Plan } from "../../plan/format.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { f16BitsToFloat32, float32ToF16Bits } from "../../runtime/safetensors/half.js";
import { Session } from "../../runtime/session.js";
import { initWeights } from "../../runtime/weights.js";
import { SMALL_LAYER, SMALL_LM } from "../../models/small.js";
import { bitsOf, loadGraph, randomInputs, reference, relL2 } from "./helpers.js";

const CASES = [
  { file: "models/smoe.moe", sets: SMALL_LAYER, tokens: 13 },
  { file: "models/lm_smoe.moe", sets: SMALL_LM, tokens: 9 },
];

/** Bytes of the largest weight that is not an expert bank, and of the largest bank. */
function weightSizes(plan: Plan): { other: number; bank: number } {
  const sizes = (banks: boolean) =>
    plan.buffers.flatMap((b) =>
      b.kind === "weight" && b.name.includes("{e}") === banks ? [b.bytes.coef] : [],
    );
  return { other: Math.max(...sizes(false)), bank: Math.max(...sizes(true)) };
}

describe("expert banks split across bindings", { timeout: 180_000 }, () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
  });
  afterAll(() => moec?.device.destroy());

  for (const { file, sets, tokens } of CASES) {
    for (const level of [0, 2] as const) {
      for (const weights of ["f32", "f16"] as const) {
        it(`${file} -O${level}, ${weights} weights: banks in 3+ parts match the reference`, async (ctx) => {
          if (weights === "f16" && !moec.features.has("shader-f16"))
            ctx.skip("this adapter has no shader-f16");
          const graph = loadGraph(file, sets);
          const device = profileOfDevice(moec);
          const whole = weightSizes(compileGraph(graph, { level, profile: device, weights }).plan);
          // Room for every other weight and about a third of a bank per binding.
          const limit = Math.max(whole.other, Math.ceil(whole.bank / 3));
          const profile = { ...device, maxStorageBufferBindingSize: limit };
          const { plan } = compileGraph(graph, { level, profile, weights });
          const parts = plan.buffers.filter((b) => b.kind === "weight" && b.experts);
          expect(parts.length).toBeGreaterThanOrEqual(3);
          expect(parts.every((b) => b.bytes.coef <= limit)).toBe(true);
          const round = (x: number) =>
            weights === "f16" ? f16BitsToFloat32(float32ToF16Bits(x)) : x;
          const data = new Map(
            [...initWeights(weightDecls(graph), 3)].map(([n, w]) => [n, w.map(round)]),
          );
          const inputs = randomInputs(graph, tokens, 3, 64);
          const session = await Session.create(moec.device, plan, data);
          const result = await session.run(inputs, { poison: true });
          const ref = reference(graph, inputs, data);
          for (const [name, expected] of ref.outputs) {
            const actual = result.outputs.get(name)!.data as Float32Array;
            expect(relL2(actual, expected.data), name).toBeLessThan(1e-5);
          }
          // A sibling session (as a decoding plan is run) binds the same parts, each its own.
          const sibling = await session.sibling(plan);
          const again = await sibling.run(inputs, { poison: true });
          for (const [name, t] of result.outputs)
            expect(bitsOf(again.outputs.get(name)!), name).toEqual(bitsOf(t));
          sibling.destroy();
          session.destroy();
        });
      }
    }
  }
});
