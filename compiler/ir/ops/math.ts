// Scalar float64 math of the reference semantics: activations and top-k selection.
import type { Activation } from "./def.js";

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for a 1e-5 oracle; use a series/continued fraction.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = x;
    let term = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz), accurate for |x| >= 2.5.
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    d = ax + a * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + a / c;
    if (c === 0) c = 1e-300;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return x > 0 ? 1 - erfc : erfc - 1;
}

export const ACTIVATION_FUNCTIONS: Readonly<Record<Activation, (x: number) => number>> = {
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
  silu: (x) => x / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

/** Indices of the k largest values; ties go to the lower index (design.md section 4). */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  // NaN ranks below every number (as -inf; the kernels' rank_key), ties to the lower index: a
  // row of NaN picks experts 0..k-1, like the kernels, instead of an arbitrary order.
  const key = (i: number) => (Number.isNaN(values[i]) ? -Infinity : values[i]!);
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => key(b) - key(a) || a - b);
  return order.slice(0, k);
}
