// Seeded model inputs for a plan: the same values in the page and in Node (the browser test
// compares the two). Needs only the plan's types, never the compiler.
import type { Dim } from "../../../plan/dims.js";
import type { Plan } from "../../../plan/format.js";
import { createRng, randomTensor } from "../../../runtime/random.js";
import type { TensorData } from "../../../runtime/session.js";

/** Every symbolic dimension of the plan (T, ...) bound to `tokens`. */
export function planDims(plan: Plan, tokens: number): Record<string, number> {
  return Object.fromEntries(plan.symbols.map((s) => [s, tokens]));
}

export function resolveDims(shape: readonly Dim[], dims: Record<string, number>): number[] {
  return shape.map((d) => {
    if (typeof d === "number") return d;
    const value = dims[d.sym];
    if (value === undefined) throw new Error(`no value for dimension ${d.sym}`);
    return d.coef * value;
  });
}

/**
 * Inputs for `tokens` tokens: f32 tensors uniform in (-1, 1) without zeros (seed + input index),
 * i32 token ids uniform in [0, idLimit) (stream 1000 + input index), as the runtime tests do.
 */
export function makeInputs(plan: Plan, tokens: number, seed: number): Map<string, TensorData> {
  const dims = planDims(plan, tokens);
  const inputs = new Map<string, TensorData>();
  plan.inputs.forEach((input, i) => {
    const shape = resolveDims(input.shape, dims);
    if (input.dtype === "i32") {
      const rng = createRng(seed, 1000 + i);
      const n = shape.reduce((a, b) => a * b, 1);
      const limit = input.idLimit ?? 1;
      inputs.set(input.name, {
        shape,
        data: Int32Array.from({ length: n }, () => rng.nextUint32() % limit),
      });
    } else {
      inputs.set(input.name, { shape, data: randomTensor(shape, seed + i) });
    }
  });
  return inputs;
}
