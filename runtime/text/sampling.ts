// Choosing the next token from a model's logits: greedy, temperature, top-k and top-p (nucleus),
// combinable, with a seeded generator so a run repeats exactly. Float64 on the CPU: the logits
// of one position are small next to the model, and float64 keeps the result independent of the
// order the sums happen in. Browser-safe.
import { createRng, hashString, type Rng } from "../random.js";

export interface SamplingOptions {
  /** Divides the logits before the softmax; 0 means greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens. Default: all. */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p. Default 1 (all). */
  topP?: number;
  /** Seed of the generator; the same seed and logits give the same tokens. Default 0. */
  seed?: number;
}

export type Sampler = (logits: ArrayLike<number>) => number;

/** Checks `options` and fills in the defaults; throws a RangeError naming the bad option. */
export function samplingOptions(options: SamplingOptions = {}): Required<SamplingOptions> {
  const { temperature = 1, topK = Infinity, topP = 1, seed = 0 } = options;
  const bad = (what: string, value: unknown) =>
    new RangeError(
      `sampling: ${what}, got ${typeof value === "number" ? value : JSON.stringify(value)}`,
    );
  if (typeof temperature !== "number" || !(temperature >= 0) || temperature === Infinity) {
    throw bad("temperature must be a finite number >= 0 (0 means greedy)", temperature);
  }
  if (topK !== Infinity && !(Number.isSafeInteger(topK) && topK >= 1)) {
    throw bad("top_k must be an integer >= 1", topK);
  }
  if (typeof topP !== "number" || !(topP > 0 && topP <= 1))
    throw bad("top_p must be in (0, 1]", topP);
  if (!Number.isSafeInteger(seed)) throw bad("seed must be an integer", seed);
  return { temperature, topK, topP, seed };
}

/** A sampler with its own generator: each call draws at most one random number. */
export function createSampler(options: SamplingOptions = {}): Sampler {
  const opts = samplingOptions(options);
  const rng = createRng(opts.seed, SAMPLING_STREAM);
  return (logits) => sampleToken(logits, opts, rng);
}

const SAMPLING_STREAM = hashString("moec:sampling");

/** Index of the largest logit; the lowest index wins ties. */
export function argmax(logits: ArrayLike<number>): number {
  checkLogits(logits);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export function sampleToken(
  logits: ArrayLike<number>,
  options: Required<SamplingOptions>,
  rng: Rng,
): number {
  const { temperature, topK, topP } = options;
  if (temperature === 0 || topK === 1) return argmax(logits);
  checkLogits(logits);
  // Unnormalised softmax weights; shifting by the max keeps exp() in range.
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const weights = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++)
    total += weights[i] = Math.exp((logits[i] - max) / temperature);

  // Without a cut every token of positive weight takes part, in index order: no sort needed.
  const candidates =
    topK === Infinity && topP === 1
      ? indicesAbove(weights, 0)
      : topKTopP(logits, weights, total, topK, topP);
  let mass = 0;
  for (const i of candidates) mass += weights[i];
  const target = rng.nextFloat() * mass;
  let cumulative = 0;
  for (const i of candidates) {
    cumulative += weights[i];
    if (cumulative > target) return i;
  }
  return candidates[candidates.length - 1]; // rounding left target at the very top
}

/**
 * The top k tokens by logit (ties: lower index first), then the smallest prefix of them whose
 * mass reaches top_p of theirs (top-p over the renormalised top k, as in transformers).
 * Sorting a 150k vocabulary every token is slow, so first sort only the tokens within a factor
 * 1e-6 of the most likely one: they are a prefix of the full order, so when they hold the answer
 * it is exactly the answer of the full sort.
 */
function topKTopP(
  logits: ArrayLike<number>,
  weights: Float64Array,
  total: number,
  topK: number,
  topP: number,
): Uint32Array {
  const byLogit = (a: number, b: number) => logits[b] - logits[a] || a - b;
  for (const floor of [1e-6, 0]) {
    const sorted = indicesAbove(weights, floor).sort(byLogit);
    if (floor > 0 && topK !== Infinity && sorted.length < topK) continue; // the top k reach lower
    const top = sorted.subarray(0, Math.min(topK, sorted.length));
    const keptMass = topK === Infinity ? total : top.reduce((sum, i) => sum + weights[i], 0);
    let mass = 0;
    let n = 0;
    while (n < top.length && mass < topP * keptMass) mass += weights[top[n++]];
    if (mass >= topP * keptMass || floor === 0) return top.subarray(0, n);
  }
  throw new Error("unreachable: the pass with floor 0 always returns");
}

/** Indices of the weights above `floor`, ascending. A typed array: pushing 150k numbers onto a
 * plain array costs more than the rest of a sampling step. */
function indicesAbove(weights: Float64Array, floor: number): Uint32Array {
  const out = new Uint32Array(weights.length);
  let n = 0;
  for (let i = 0; i < weights.length; i++) if (weights[i] > floor) out[n++] = i;
  return out.subarray(0, n);
}

function checkLogits(logits: ArrayLike<number>): void {
  if (logits.length === 0) throw new RangeError("sampling: no logits (empty vocabulary)");
  let finite = false;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    if (Number.isNaN(x) || x === Infinity) throw new RangeError(`sampling: logits[${i}] is ${x}`);
    if (x !== -Infinity) finite = true;
  }
  if (!finite) throw new RangeError("sampling: every logit is -Infinity, no token can be chosen");
}

/** `ids` up to (not including) the first stop token, and whether one was found. */
export function stopAt(
  ids: readonly number[],
  stopIds: readonly number[],
): { ids: number[]; stopped: boolean } {
  const at = ids.findIndex((id) => stopIds.includes(id));
  return at < 0 ? { ids: [...ids], stopped: false } : { ids: ids.slice(0, at), stopped: true };
}
