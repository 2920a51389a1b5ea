// Non-finite values (README, "Non-finite values"): a weight holding NaN or an infinity is an error
// naming the tensor and the first such index (it would poison every token routed through it);
// outputs with non-finite values get a warning naming the output and how many. Inputs are not
// refused: one token's bad row stays in its own row (test/security/rowIsolation.test.ts).
// Browser-safe.
import { MoecRunError } from "./errors.js";
import type { TensorData } from "./inputs.js";
import { halfToFloat32, isHalfWeight, type WeightData } from "./weightUpload.js";

/** The index of the first NaN or infinity in `data`, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

/** Throws a MoecRunError naming every weight (up to 10) that holds a NaN or an infinity. */
export function checkWeightsFinite(weights: ReadonlyMap<string, WeightData>): void {
  const problems: string[] = [];
  for (const [name, w] of weights) {
    if (isHalfWeight(w)) {
      // Exponent bits all ones: an infinity or a NaN.
      const mask = w.half === "f16" ? 0x7c00 : 0x7f80;
      const at = w.data.findIndex((bits) => (bits & mask) === mask);
      if (at >= 0) problems.push(`weight ${name} holds ${halfToFloat32(w)[at]} at index ${at}`);
      continue;
    }
    const data = w instanceof Float32Array ? w : w.data;
    if (!(data instanceof Float32Array)) continue; // packed ternary words are not floats
    const at = firstNonFinite(data);
    if (at >= 0) problems.push(`weight ${name} holds ${data[at]} at index ${at}`);
  }
  if (problems.length === 0) return;
  const shown = problems.slice(0, 10).join("\n  ");
  const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : "";
  throw new MoecRunError(
    `weights must be finite (NaN or infinity would reach every token routed through them):\n  ${shown}${more}`,
  );
}

/** One warning per output that holds NaN or infinities: its name and how many. */
export function nonFiniteOutputWarnings(outputs: ReadonlyMap<string, TensorData>): string[] {
  const warnings: string[] = [];
  for (const [name, t] of outputs) {
    if (t.data instanceof Int32Array) continue;
    let nan = 0;
    let inf = 0;
    for (const v of t.data) {
      if (Number.isNaN(v)) nan++;
      else if (!Number.isFinite(v)) inf++;
    }
    if (nan + inf === 0) continue;
    const kinds = [nan > 0 ? `${nan} NaN` : "", inf > 0 ? `${inf} infinite` : ""]
      .filter(Boolean)
      .join(" and ");
    warnings.push(
      `output '${name}' has ${kinds} of ${t.data.length} values (first at index ${firstNonFinite(t.data)}); check the inputs and weights for NaN, infinities or values that overflow f32`,
    );
  }
  return warnings;
}
