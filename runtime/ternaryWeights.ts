// Loading the ternary (t2) weights of BitNet layers: f32 master weights are quantised here, on
// the CPU in float64 (deterministic: the same function gives the reference its weights), or
// already packed words come with their `<name>_scale`. Either way the GPU gets one t2 buffer
// (plan/bitnet.ts). Browser-safe.
import {
  PackedWeightError,
  type TernaryMatrix,
  ternarize,
  ternaryBuffer,
  ternaryWordsPerRow,
  unpackTernary,
} from "../plan/bitnet.js";
import { expertWeightName, isStackedExpertName } from "../plan/weightNames.js";

/** A weight as given: f32 master values, or packed words (u32) of a ternary tensor. */
export type TernarySource =
  Float32Array | { readonly shape: readonly number[]; readonly data: Float32Array | Uint32Array };

/** The scale tensor that accompanies packed ternary words `name`. */
export function scaleName(name: string): string {
  return `${name}_scale`;
}

/**
 * The t2 buffer of weight `name` with logical shape [...stack, rows, cols] (`{e}` in the name:
 * stacked experts, given as one tensor or one per expert). Returns undefined after pushing a
 * message per problem; `used` collects the names read.
 */
export function resolveTernaryWeight(
  name: string,
  shape: readonly number[],
  lookup: (name: string) => TernarySource | undefined,
  used: Set<string>,
  problems: string[],
): Uint32Array | undefined {
  const [rows, cols] = shape.slice(-2) as [number, number];
  const stack = shape.slice(0, -2);
  const count = stack.reduce((a, b) => a * b, 1);
  const before = problems.length;
  let matrices: TernaryMatrix[] | undefined;
  if (lookup(name) !== undefined || !isStackedExpertName(name)) {
    matrices = readTensor(name, shape, lookup, used, problems);
  } else {
    matrices = [];
    for (let e = 0; e < count; e++) {
      const one = readTensor(expertWeightName(name, e), [rows, cols], lookup, used, problems);
      if (one) matrices.push(...one);
    }
  }
  if (problems.length > before || !matrices) return undefined;
  return ternaryBuffer(matrices, rows, cols);
}

function readTensor(
  name: string,
  shape: readonly number[],
  lookup: (name: string) => TernarySource | undefined,
  used: Set<string>,
  problems: string[],
): TernaryMatrix[] | undefined {
  const [rows, cols] = shape.slice(-2) as [number, number];
  const count = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const source = lookup(name);
  const scaleSource = lookup(scaleName(name));
  const shown = `[${shape.join(", ")}]`;
  if (source === undefined) {
    problems.push(
      `missing weight ${name} ${shown} (ternary: f32 master weights, or packed U32 words with ${scaleName(name)})`,
    );
    return undefined;
  }
  used.add(name);
  const data = source instanceof Float32Array ? source : source.data;
  const given = source instanceof Float32Array ? undefined : source.shape;
  try {
    if (data instanceof Float32Array) {
      if (scaleSource !== undefined) {
        used.add(scaleName(name));
        problems.push(
          `weight ${scaleName(name)} is given with f32 master weights ${name}; the scale is computed from the master weights (give packed U32 words with a scale, or the master weights alone)`,
        );
        return undefined;
      }
      if (given && given.join() !== shape.join()) {
        problems.push(`weight ${name} has shape [${given.join(", ")}], expected ${shown}`);
        return undefined;
      }
      if (data.length !== rows * cols * count) {
        problems.push(`weight ${name} has ${data.length} values, expected ${rows * cols * count}`);
        return undefined;
      }
      return Array.from({ length: count }, (_, m) => {
        const slice = data.subarray(m * rows * cols, (m + 1) * rows * cols);
        const bad = slice.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0)
          throw new PackedWeightError(
            `weight ${name}: master value ${slice[bad]} at index ${m * rows * cols + bad} is not finite`,
          );
        return ternarize(slice);
      });
    }
    if (!(data instanceof Uint32Array)) {
      problems.push(`weight ${name} must be f32 master weights or packed U32 words`);
      return undefined;
    }
    const words = ternaryWordsPerRow(cols);
    const packedShape = [...shape.slice(0, -1), words];
    if (!given || given.join() !== packedShape.join()) {
      problems.push(
        `weight ${name}: packed ternary words must have shape [${packedShape.join(", ")}] (${words} u32 words per row of ${cols} values), got [${given?.join(", ") ?? data.length}]`,
      );
      return undefined;
    }
    if (scaleSource === undefined) {
      problems.push(`missing weight ${scaleName(name)} [${count}]: the scale of packed ${name}`);
      return undefined;
    }
    used.add(scaleName(name));
    const scales = scaleSource instanceof Float32Array ? scaleSource : scaleSource.data;
    if (!(scales instanceof Float32Array) || scales.length !== count) {
      problems.push(`weight ${scaleName(name)} must hold ${count} f32 value(s)`);
      return undefined;
    }
    return Array.from({ length: count }, (_, m) => {
      const scale = scales[m]!;
      if (!(Number.isFinite(scale) && scale > 0))
        throw new PackedWeightError(
          `weight ${scaleName(name)}: scale must be a positive finite number, got ${scale}`,
        );
      const slice = data.subarray(m * rows * words, (m + 1) * rows * words);
      const what = count > 1 ? `weight ${name} (matrix ${m})` : `weight ${name}`;
      return { values: unpackTernary(slice, rows, cols, what), scale };
    });
  } catch (err) {
    if (!(err instanceof PackedWeightError)) throw err;
    problems.push(err.message);
    return undefined;
  }
}
