// Seeded, deterministic random numbers for weight initialisation and test inputs.
// Browser-safe and free of BigInt: 32-bit integer math only, so every platform agrees bit for bit.
//
// Generator: xoshiro128** (Blackman & Vigna). Its 128-bit state comes from murmur3's fmix32
// finaliser applied to (seed low word, seed high word, stream), see seedState. A weight's stream
// is the FNV-1a hash of its name's UTF-8 bytes, so each tensor depends only on (seed, name): the
// same values come out whatever order tensors are created in, on CPU and GPU paths alike.
import type { InitKind } from "../plan/format.js";

export type { InitKind } from "../plan/format.js";

export interface Rng {
  /** Uniform integer in [0, 2^32). */
  nextUint32(): number;
  /** Uniform in [0, 1), 32 random bits. */
  nextFloat(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Standard normal (Box-Muller; values come in pairs). */
  normal(): number;
}

/** The X-MoE router's initial temperature τ0 (2404.15045 Table 9), by gating. */
export const XMOE_TEMPERATURE = { softmax: 0.3, sigmoid: 0.07 } as const;

/** Standard deviation of embedding tables (the GPT-2 / LLaMA `initializer_range`). */
export const EMBEDDING_STD = 0.02;
/** Norm scales are 1 + NORM_SPREAD * uniform(-1, 1) and biases NORM_SPREAD * uniform(-1, 1). */
export const NORM_SPREAD = 0.1;

export function createRng(seed: number, stream = 0): Rng {
  const s = seedState(seed, stream);
  let spare: number | undefined;
  const nextUint32 = (): number => {
    // xoshiro128**
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
  const nextFloat = (): number => nextUint32() / 2 ** 32;
  return {
    nextUint32,
    nextFloat,
    uniform: (lo, hi) => lo + (hi - lo) * nextFloat(),
    normal: () => {
      if (spare !== undefined) {
        const z = spare;
        spare = undefined;
        return z;
      }
      const radius = Math.sqrt(-2 * Math.log(1 - nextFloat())); // 1 - u is in (0, 1]
      const angle = 2 * Math.PI * nextFloat();
      spare = radius * Math.sin(angle);
      return radius * Math.cos(angle);
    },
  };
}

/**
 * Initial values of the weight `name`, depending only on (seed, name); `fanIn` is the number of
 * inputs per output (used by linear, router and bias). Kinds:
 * - linear, router, bias: uniform(-1/sqrt(fanIn), 1/sqrt(fanIn)), PyTorch's nn.Linear default.
 *   Routers get the same scale rather than zeros so that top-k choices are not ties.
 * - norm_weight: 1 + 0.1 * uniform(-1, 1), not all ones, so a dropped scale shows in tests.
 * - norm_bias: 0.1 * uniform(-1, 1), not all zeros for the same reason.
 * - embedding: normal(0, 0.02).
 * - temperature_softmax, temperature_sigmoid: the constant 0.3 or 0.07 (X-MoE's τ0).
 */
export function initWeight(
  name: string,
  shape: readonly number[],
  seed: number,
  kind: InitKind,
  fanIn: number,
): Float32Array {
  const out = new Float32Array(numel(shape, name));
  const rng = createRng(seed, hashString(name));
  switch (kind) {
    case "linear":
    case "router":
    case "bias": {
      if (!(Number.isInteger(fanIn) && fanIn > 0)) {
        throw new RangeError(`initWeight(${name}): fanIn must be a positive integer, got ${fanIn}`);
      }
      const bound = 1 / Math.sqrt(fanIn);
      for (let i = 0; i < out.length; i++) out[i] = rng.uniform(-bound, bound);
      break;
    }
    case "norm_weight":
      for (let i = 0; i < out.length; i++) out[i] = 1 + NORM_SPREAD * rng.uniform(-1, 1);
      break;
    case "norm_bias":
      for (let i = 0; i < out.length; i++) out[i] = NORM_SPREAD * rng.uniform(-1, 1);
      break;
    case "embedding":
      for (let i = 0; i < out.length; i++) out[i] = EMBEDDING_STD * rng.normal();
      break;
    case "temperature_softmax":
      out.fill(XMOE_TEMPERATURE.softmax);
      break;
    case "temperature_sigmoid":
      out.fill(XMOE_TEMPERATURE.sigmoid);
      break;
    default:
      throw new RangeError(`initWeight(${name}): unknown init kind ${String(kind)}`);
  }
  return out;
}

/** Test input: uniform(-1, 1) with exact zeros redrawn, so no element (or tensor) is zero. */
export function randomTensor(shape: readonly number[], seed: number): Float32Array {
  const out = new Float32Array(numel(shape, "randomTensor"));
  const rng = createRng(seed, INPUT_STREAM);
  for (let i = 0; i < out.length; i++) {
    let x = 0;
    while (x === 0) x = Math.fround(rng.uniform(-1, 1));
    out[i] = x;
  }
  return out;
}

/** FNV-1a over the UTF-8 bytes of `text`. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

const INPUT_STREAM = hashString("moec:randomTensor");

function seedState(seed: number, stream: number): Uint32Array {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer: ${seed}`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  const base = fmix32(lo ^ fmix32(hi ^ fmix32(stream >>> 0)));
  // fmix32 is a bijection, so the four words differ and the state is never all zero.
  const s = new Uint32Array(4);
  for (let i = 0; i < 4; i++) s[i] = fmix32((base + Math.imul(i + 1, 0x9e3779b9)) >>> 0);
  return s;
}

/** murmur3's 32-bit finaliser. */
function fmix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function numel(shape: readonly number[], what: string): number {
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new RangeError(`${what}: shape [${shape.join(", ")}] is not a list of non-negative ints`);
  }
  return shape.reduce((a, b) => a * b, 1);
}
