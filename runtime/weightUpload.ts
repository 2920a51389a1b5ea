// Weights into GPU buffers: each weight of the plan found by name (a stacked expert tensor also
// from its per-expert slices, `bank.3.fc1.weight` being slice 3 of `bank.{e}.fc1.weight`), checked
// against the plan's shape, uploaded once per session. Browser-safe.
import type { Plan } from "../plan/format.js";
import { expertWeightName, isStackedExpertName, stackedTensorName } from "../plan/weightNames.js";
import { STORAGE_USAGE, writeBuffer } from "./buffers.js";
import { MoecRunError } from "./errors.js";
import { resolveTernaryWeight } from "./ternaryWeights.js";
import { bf16BitsToFloat32, f16BitsToFloat32, float32ToF16Bits } from "./safetensors/half.js";

/**
 * A weight by name: flat data (checked by element count) or data with its shape (checked).
 * Ternary (t2) weights take f32 master values, or packed U32 words [..., ceil(in/16)] with a
 * `<name>_scale` tensor (runtime/ternaryWeights.ts).
 */
export type WeightData =
  | Float32Array
  | {
      readonly shape: readonly number[];
      readonly data: Float32Array | Uint32Array;
      /** The file it came from, for messages. */
      readonly source?: string;
    }
  | HalfWeight;

/**
 * A weight kept as the half-precision bits it was stored in (F16 or BF16 checkpoints): converted
 * only for the buffer it goes to, so f16 weights on the GPU never pass through an f32 copy.
 */
export interface HalfWeight {
  readonly shape: readonly number[];
  readonly data: Uint16Array;
  readonly half: "f16" | "bf16";
  readonly source?: string;
}

export function isHalfWeight(w: WeightData): w is HalfWeight {
  return !(w instanceof Float32Array) && "half" in w;
}

/** A half weight's values as f32 (for f32 buffers and the checks that read values). */
export function halfToFloat32(w: HalfWeight): Float32Array {
  const toFloat = w.half === "f16" ? f16BitsToFloat32 : bf16BitsToFloat32;
  return Float32Array.from(w.data, toFloat);
}

/** What a weight buffer receives: f32 values, f16 bits, or the words of a t2 buffer. */
type WeightBytes = Float32Array | Uint16Array | Uint32Array;

/**
 * Uploads the resolved weights (resolveWeights) and creates the uniform buffer of runtime
 * parameters. Returns the GPU buffers by plan buffer id; inputs and activations are allocated
 * later, per run size.
 */
export async function uploadWeights(
  device: GPUDevice,
  plan: Plan,
  data: ReadonlyMap<number, WeightBytes>,
  /** Buffers that come from elsewhere (a sibling session's weights and states). */
  given: ReadonlySet<number> = new Set(),
): Promise<(GPUBuffer | undefined)[]> {
  const buffers: (GPUBuffer | undefined)[] = plan.buffers.map(() => undefined);
  device.pushErrorScope("out-of-memory");
  for (const b of plan.buffers) {
    if (given.has(b.id)) continue;
    if (b.kind === "weight") {
      const resolved = data.get(b.id)!;
      // f16 bits go up in whole words: an odd count gets one zero of padding.
      const values =
        resolved instanceof Uint16Array && resolved.length % 2 === 1
          ? Uint16Array.from({ length: resolved.length + 1 }, (_, i) => resolved[i] ?? 0)
          : resolved;
      const buffer = device.createBuffer({
        label: b.name,
        size: values.byteLength,
        usage: STORAGE_USAGE(),
      });
      writeBuffer(device, buffer, values);
      buffers[b.id] = buffer;
    } else if (b.kind === "state") {
      // Zero-initialised by WebGPU: an empty cache. Runs write it; nothing uploads it.
      buffers[b.id] = device.createBuffer({
        label: b.name,
        size: Math.max(4, b.bytes.coef),
        usage: STORAGE_USAGE(),
      });
    } else if (b.kind === "params") {
      const size = b.bytes.coef;
      buffers[b.id] = device.createBuffer({
        label: "params",
        size,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
    }
  }
  const oom = await device.popErrorScope();
  if (oom) {
    for (const b of buffers) b?.destroy();
    throw new MoecRunError(
      `out of memory while uploading the weights of ${plan.name}: ${oom.message}`,
    );
  }
  return buffers;
}

/** A weight's values as f16 bits; a value beyond the f16 range is an error naming it. */
function f16Bits(w: Float32Array | HalfWeight, name: string, problems: string[]): Uint16Array {
  if (!(w instanceof Float32Array) && w.half === "f16") return w.data;
  const values = w instanceof Float32Array ? w : halfToFloat32(w);
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    bits[i] = float32ToF16Bits(values[i]!);
    if ((bits[i]! & 0x7c00) === 0x7c00) {
      problems.push(
        `weight ${name} holds ${values[i]} at index ${i}, beyond the f16 range (±65504); load it with f32 weights`,
      );
      break;
    }
  }
  return bits;
}

/**
 * The weight data by plan buffer id, every weight found by name and checked against its shape;
 * all problems are reported at once. Weights the plan does not use are named in a warning.
 */
export function resolveWeights(
  plan: Plan,
  weights: ReadonlyMap<string, WeightData>,
  warn: (message: string) => void,
): Map<number, WeightBytes> {
  const used = new Set<string>();
  const problems: string[] = [];
  const out = new Map<number, WeightBytes>();
  // A tensor split over several buffers (PlanBuffer.experts) is resolved once, then sliced.
  const whole = new Map<string, WeightBytes | undefined>();
  for (const b of plan.buffers) {
    if (b.kind !== "weight") continue;
    if (!whole.has(b.name)) whole.set(b.name, resolveWhole(b));
    const data = whole.get(b.name);
    if (data) out.set(b.id, b.experts ? expertRange(data, b.shape, b.experts) : data);
  }

  function resolveWhole(b: Extract<Plan["buffers"][number], { kind: "weight" }>) {
    if (b.dtype === "t2") {
      const lookup = (n: string) => {
        const w = weights.get(n);
        return w && isHalfWeight(w) ? { shape: w.shape, data: halfToFloat32(w) } : w;
      };
      return resolveTernaryWeight(b.name, b.shape, lookup, used, problems);
    }
    // The buffer's storage: f16 bits for f16 buffers, else f32 values.
    const store = (w: Float32Array | HalfWeight, name: string) =>
      b.dtype === "f16"
        ? f16Bits(w, name, problems)
        : w instanceof Float32Array
          ? w
          : halfToFloat32(w);
    // A stacked expert tensor may also come whole under its name without `{e}`.
    const wholeName = [b.name, stackedTensorName(b.name)].find((n) => weights.has(n));
    if (wholeName !== undefined) {
      used.add(wholeName);
      const data = checkWeight(wholeName, weights.get(wholeName)!, b.shape, problems);
      return data && store(data, wholeName);
    }
    if (!isStackedExpertName(b.name)) {
      problems.push(`missing weight ${b.name} [${b.shape.join(", ")}]`);
      return undefined;
    }
    // Assemble a stacked expert tensor from its per-expert slices.
    const [experts, ...slice] = b.shape;
    const sliceSize = slice.reduce((a, c) => a * c, 1);
    const stacked =
      b.dtype === "f16"
        ? new Uint16Array(experts! * sliceSize)
        : new Float32Array(experts! * sliceSize);
    for (let e = 0; e < experts!; e++) {
      const name = expertWeightName(b.name, e);
      const t = weights.get(name);
      if (t === undefined) {
        problems.push(
          `missing weight ${name} [${slice.join(", ")}] (or all experts stacked as ${stackedTensorName(b.name)} [${b.shape.join(", ")}])`,
        );
        continue;
      }
      used.add(name);
      const data = checkWeight(name, t, slice, problems);
      if (data) stacked.set(store(data, name), e * sliceSize);
    }
    return stacked;
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join("\n  ");
    const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : "";
    throw new MoecRunError(`weights do not fit model ${plan.name}:\n  ${shown}${more}`);
  }
  const extra = [...weights.keys()].filter((n) => !used.has(n)).sort();
  if (extra.length > 0) {
    const listed =
      extra.slice(0, 5).join(", ") + (extra.length > 5 ? `, ... (${extra.length} in all)` : "");
    warn(`ignoring weights that model ${plan.name} does not use: ${listed}`);
  }
  return out;
}

/** Experts [start, end) of a stacked tensor's data (a buffer of a split bank). */
function expertRange(
  data: WeightBytes,
  shape: readonly number[],
  [start, end]: readonly [number, number],
): WeightBytes {
  const slice = data.length / shape[0]!;
  return data.subarray(start * slice, end * slice);
}

function checkWeight(
  name: string,
  w: WeightData,
  shape: readonly number[],
  problems: string[],
): Float32Array | HalfWeight | undefined {
  if (isHalfWeight(w)) {
    if (w.shape.join() === shape.join() && w.data.length === shape.reduce((a, c) => a * c, 1))
      return w;
    problems.push(
      `weight ${name}${fromFile(w)} has shape [${w.shape.join(", ")}], expected [${shape.join(", ")}]`,
    );
    return undefined;
  }
  const data = w instanceof Float32Array ? w : w.data;
  const expected = shape.reduce((a, c) => a * c, 1);
  if (data instanceof Uint32Array) {
    problems.push(
      `weight ${name} is given as packed U32 words, but only ternary weights (quant = "b1.58") are packed; give f32 values`,
    );
    return undefined;
  }
  if (!(data instanceof Float32Array)) {
    problems.push(`weight ${name} must be a Float32Array`);
    return undefined;
  }
  if (!(w instanceof Float32Array) && w.shape.join() !== shape.join()) {
    problems.push(
      `weight ${name}${fromFile(w)} has shape [${w.shape.join(", ")}], expected [${shape.join(", ")}]`,
    );
    return undefined;
  }
  if (data.length !== expected) {
    problems.push(
      `weight ${name} has ${data.length} values, expected ${expected} for shape [${shape.join(", ")}]`,
    );
    return undefined;
  }
  return data;
}

/** " (in FILE)" for a weight that says which file it came from. */
function fromFile(w: WeightData): string {
  return !(w instanceof Float32Array) && w.source ? ` (in ${w.source})` : "";
}
