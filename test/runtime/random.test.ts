import { describe, expect, it } from "vitest";
import {
  EMBEDDING_STD,
  createRng,
  hashString,
  initWeight,
  randomTensor,
  type InitKind,
} from "../../runtime/random.js";

function stats(values: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / values.length;
  return { mean, std: Math.sqrt(sq / values.length - mean * mean), min, max };
}

describe("createRng", () => {
  it("matches a C implementation of the seeding and xoshiro128**", () => {
    // Printed by a 20-line C program with uint32_t arithmetic (same fmix32 seeding).
    const rng = createRng(123456789012345, 0xdeadbeef);
    const expected = [4109024559, 1258606694, 3510182238, 3344390271, 2582877860, 1303573212];
    expect(expected.map(() => rng.nextUint32())).toEqual(expected);
  });

  it("is deterministic per (seed, stream) and differs otherwise", () => {
    const draw = (seed: number, stream = 0) => {
      const rng = createRng(seed, stream);
      return Array.from({ length: 8 }, () => rng.nextUint32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(7, 1)).not.toEqual(draw(7, 2));
    // The high word of the seed matters too.
    expect(draw(2 ** 32 + 5)).not.toEqual(draw(5));
    expect(() => createRng(1.5)).toThrow(RangeError);
  });

  it("gives uniform floats in [0, 1) and standard normals", () => {
    const rng = createRng(42);
    const u = Array.from({ length: 20000 }, () => rng.nextFloat());
    const su = stats(u);
    expect(su.min).toBeGreaterThanOrEqual(0);
    expect(su.max).toBeLessThan(1);
    expect(su.mean).toBeCloseTo(0.5, 1);
    expect(su.std).toBeCloseTo(Math.sqrt(1 / 12), 2);
    const n = stats(Array.from({ length: 20000 }, () => rng.normal()));
    expect(Math.abs(n.mean)).toBeLessThan(0.03);
    expect(Math.abs(n.std - 1)).toBeLessThan(0.03);
  });
});

describe("hashString", () => {
  it("is FNV-1a over UTF-8", () => {
    expect(hashString("")).toBe(0x811c9dc5);
    expect(hashString("a")).toBe(0xe40c292c); // published FNV-1a test vector
    expect(hashString("é")).not.toBe(hashString("e"));
  });
});

describe("initWeight", () => {
  it("depends only on (seed, name), not on call order or shape", () => {
    const a1 = initWeight("layers.0.w_up", [16, 8], 1, "linear", 16);
    const b1 = initWeight("layers.0.w_down", [8, 16], 1, "linear", 8);
    const b2 = initWeight("layers.0.w_down", [8, 16], 1, "linear", 8);
    const a2 = initWeight("layers.0.w_up", [16, 8], 1, "linear", 16);
    expect(a2).toEqual(a1);
    expect(b2).toEqual(b1);
    expect(initWeight("layers.0.w_up", [128], 1, "linear", 16)).toEqual(a1);
    expect(initWeight("layers.0.w_up", [16, 8], 2, "linear", 16)).not.toEqual(a1);
    expect(initWeight("layers.1.w_up", [16, 8], 1, "linear", 16)).not.toEqual(a1);
  });

  it.each<[InitKind, number, number]>([
    ["linear", 64, 1 / 8],
    ["router", 64, 1 / 8],
    ["bias", 256, 1 / 16],
  ])("%s weights are uniform within 1/sqrt(fanIn)", (kind, fanIn, bound) => {
    const w = initWeight(`w.${kind}`, [fanIn, 64], 3, kind, fanIn);
    const s = stats(w);
    expect(s.max).toBeLessThanOrEqual(Math.fround(bound));
    expect(s.min).toBeGreaterThanOrEqual(-Math.fround(bound));
    expect(s.max).toBeGreaterThan(0.9 * bound);
    expect(Math.abs(s.mean)).toBeLessThan(0.05 * bound);
    expect(s.std).toBeCloseTo(bound / Math.sqrt(3), 2);
  });

  it("gives norm weights near one, norm biases near zero, none constant", () => {
    const g = stats(initWeight("norm.weight", [64], 5, "norm_weight", 64));
    expect(g.min).toBeGreaterThanOrEqual(Math.fround(0.9));
    expect(g.max).toBeLessThanOrEqual(Math.fround(1.1));
    expect(g.max - g.min).toBeGreaterThan(0.05);
    const b = stats(initWeight("norm.bias", [64], 5, "norm_bias", 64));
    expect(b.min).toBeGreaterThanOrEqual(Math.fround(-0.1));
    expect(b.max).toBeLessThanOrEqual(Math.fround(0.1));
    expect(b.max - b.min).toBeGreaterThan(0.05);
  });

  it("gives embeddings with std 0.02", () => {
    const e = stats(initWeight("embed", [1000, 32], 9, "embedding", 32));
    expect(Math.abs(e.mean)).toBeLessThan(0.001);
    expect(e.std / EMBEDDING_STD).toBeCloseTo(1, 1);
  });

  it("rejects bad fanIn, shapes and kinds", () => {
    expect(() => initWeight("w", [2, 2], 1, "linear", 0)).toThrow(/fanIn/);
    expect(() => initWeight("w", [2, -1], 1, "linear", 2)).toThrow(/shape/);
    expect(() => initWeight("w", [2], 1, "weird" as InitKind, 2)).toThrow(/init kind/);
    expect(initWeight("w", [0, 4], 1, "linear", 4)).toHaveLength(0);
  });
});

describe("randomTensor", () => {
  it("is deterministic, in (-1, 1), and has no zeros", () => {
    const x = randomTensor([3, 50], 11);
    expect(x).toEqual(randomTensor([150], 11));
    expect(x).not.toEqual(randomTensor([150], 12));
    const s = stats(x);
    expect(s.min).toBeGreaterThan(-1);
    expect(s.max).toBeLessThan(1);
    expect(x.every((v) => v !== 0)).toBe(true);
    for (let seed = 0; seed < 50; seed++) expect(randomTensor([1], seed)[0]).not.toBe(0);
  });
});
