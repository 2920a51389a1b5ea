// Next-token sampling, checked against probabilities the test computes itself (float64 softmax,
// its own sort), never against the sampler's own numbers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { argmax, createSampler, samplingOptions, stopAt } from "../../runtime/text/sampling.js";

/** Softmax of logits / temperature in float64, written independently of the sampler. */
function softmax(logits: ArrayLike<number>, temperature = 1): number[] {
  const xs = Array.from(logits, (x) => x / temperature);
  const max = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Token indices from most to least likely; ties go to the lower index. */
function ranked(logits: ArrayLike<number>): number[] {
  return Array.from(logits, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b);
}

// Spread-out reals (many weights far below the sampler's 1e-6 pre-sort floor) and small
// integers (many exact ties).
const logitsArb = fc
  .oneof(
    fc.array(fc.double({ min: -40, max: 40, noNaN: true }), { minLength: 1, maxLength: 80 }),
    fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 1, maxLength: 80 }),
  )
  .map((xs) => Float32Array.from(xs));
const temperatureArb = fc.double({ min: 0.05, max: 4, noNaN: true });
const seedArb = fc.integer({ min: 0, max: 2 ** 31 });

function draws(
  logits: Float32Array,
  options: Parameters<typeof createSampler>[0],
  n: number,
): number[] {
  const sample = createSampler(options);
  return Array.from({ length: n }, () => sample(logits));
}

describe("sampling", () => {
  it("top-k never picks a token outside the k largest logits", () => {
    fc.assert(
      fc.property(
        logitsArb,
        fc.nat(),
        temperatureArb,
        seedArb,
        (logits, kSeed, temperature, seed) => {
          const topK = 1 + (kSeed % logits.length);
          const kth = logits[ranked(logits)[topK - 1]];
          for (const id of draws(logits, { topK, temperature, seed }, 20)) {
            expect(logits[id]).toBeGreaterThanOrEqual(kth);
          }
        },
      ),
    );
  });

  it("top-p picks only from the smallest prefix of sorted probabilities whose mass reaches p", () => {
    fc.assert(
      fc.property(
        logitsArb,
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.nat(),
        temperatureArb,
        seedArb,
        (logits, topP, kSeed, temperature, seed) => {
          // With top-k too, top-p applies to the top k renormalised; kSeed = 0 means no top-k.
          const topK = kSeed % (logits.length + 1) || undefined;
          const order = ranked(logits).slice(0, topK);
          const probs = softmax(logits, temperature);
          const keptMass = order.reduce((sum, i) => sum + probs[i], 0);
          const allowed = new Set<number>();
          let mass = 0;
          for (const i of order) {
            // A little slack at the boundary: the test and the sampler round differently.
            if (mass >= topP * keptMass * (1 + 1e-9)) break;
            allowed.add(i);
            mass += probs[i];
          }
          for (const id of draws(logits, { topP, topK, temperature, seed }, 20)) {
            expect(allowed.has(id)).toBe(true);
          }
        },
      ),
    );
  });

  it("the same seed gives the same sequence, another seed another one", () => {
    fc.assert(
      fc.property(logitsArb, temperatureArb, seedArb, (logits, temperature, seed) => {
        const options = { temperature, topK: 50, topP: 0.95, seed };
        expect(draws(logits, options, 30)).toEqual(draws(logits, options, 30));
      }),
    );
    const flat = new Float32Array(16); // 16 equally likely tokens: 40 equal draws would be a bug
    expect(draws(flat, { seed: 1 }, 40)).not.toEqual(draws(flat, { seed: 2 }, 40));
  });

  it("temperature 0 is greedy: the largest logit, the lowest index on ties", () => {
    fc.assert(
      fc.property(logitsArb, seedArb, (logits, seed) => {
        const best = ranked(logits)[0];
        expect(argmax(logits)).toBe(best);
        expect(draws(logits, { temperature: 0, seed, topP: 0.5 }, 5)).toEqual([
          best,
          best,
          best,
          best,
          best,
        ]);
      }),
    );
    expect(argmax(Float32Array.of(1, 3, -Infinity, 3))).toBe(1);
  });

  it("draws tokens with their softmax frequencies (20k draws), also after top-k", () => {
    const logits = Float32Array.of(0.5, -1, 2, 0, -Infinity, 1.2, -0.3);
    const n = 20_000;
    const check = (options: Parameters<typeof createSampler>[0], expected: number[]) => {
      const counts = new Array<number>(logits.length).fill(0);
      for (const id of draws(logits, options, n)) counts[id]++;
      // Binomial standard deviation is at most 0.0036 at n = 20k; 0.02 is over 5 of them.
      counts.forEach((c, i) => expect(Math.abs(c / n - expected[i])).toBeLessThan(0.02));
      expect(counts[4]).toBe(0); // a -Infinity logit is never drawn
    };
    check({ seed: 11 }, softmax(logits));
    check({ seed: 12, temperature: 2 }, softmax(logits, 2));
    // Top 3 (indices 2, 5, 0) renormalised.
    const top3 = softmax(logits).map((p, i) => ([2, 5, 0].includes(i) ? p : 0));
    const kept = top3.reduce((a, b) => a + b, 0);
    check(
      { seed: 13, topK: 3 },
      top3.map((p) => p / kept),
    );
  });

  it("refuses bad options and bad logits with messages naming them", () => {
    expect(() => samplingOptions({ temperature: NaN })).toThrow(
      /temperature must be a finite number >= 0.*NaN/,
    );
    expect(() => samplingOptions({ temperature: -0.5 })).toThrow(/temperature/);
    expect(() => samplingOptions({ temperature: Infinity })).toThrow(/temperature/);
    expect(() => samplingOptions({ topK: 0 })).toThrow(/top_k must be an integer >= 1, got 0/);
    expect(() => samplingOptions({ topK: 2.5 })).toThrow(/top_k/);
    expect(() => samplingOptions({ topP: 0 })).toThrow(/top_p must be in \(0, 1\], got 0/);
    expect(() => samplingOptions({ topP: 1.01 })).toThrow(/top_p/);
    expect(() => samplingOptions({ topP: NaN })).toThrow(/top_p/);
    expect(() => samplingOptions({ seed: 0.5 })).toThrow(/seed/);
    expect(samplingOptions({})).toEqual({ temperature: 1, topK: Infinity, topP: 1, seed: 0 });
    const sample = createSampler({ seed: 3 });
    expect(() => sample(Float32Array.of(1, NaN))).toThrow(/logits\[1\] is NaN/);
    expect(() => sample(Float32Array.of(-Infinity, -Infinity))).toThrow(/every logit is -Infinity/);
    expect(() => sample(new Float32Array(0))).toThrow(/no logits/);
  });

  it("stopAt cuts before the first stop token", () => {
    expect(stopAt([5, 6, 2, 7, 2], [2, 9])).toEqual({ ids: [5, 6], stopped: true });
    expect(stopAt([5, 6], [2])).toEqual({ ids: [5, 6], stopped: false });
  });
});
