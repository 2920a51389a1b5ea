// BitNet b1.58 number formats (plan/bitnet.ts): rounding, absmean ternary weights, absmax int8
// activations and the packed layouts, against values worked out by hand.
import { describe, expect, it } from "vitest";
import {
  PackedWeightError,
  dequantizeTernary,
  int8WordsPerRow,
  packInt8,
  packTernary,
  quantizeRows,
  roundHalfEven,
  ternarize,
  ternaryBit,
  ternaryBufferBytes,
  ternaryFromMaster,
  ternaryFromPacked,
  unpackTernary,
} from "../../plan/bitnet.js";

describe("BitNet number formats", () => {
  it("rounds half to even like torch.round and WGSL round()", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49, 1.51, -3.7].map(roundHalfEven)).toEqual([
      0, 2, 2, 0, -2, -2, 0, 2, -4,
    ]);
    expect(Object.is(roundHalfEven(-0.4), 0)).toBe(true);
  });

  it("ternarises with the per-tensor absmean scale", () => {
    // mean|W| = 4.3 / 6; W / γ = 0.70, -2.09, 0.14, 0, 2.79, -0.28
    const { values, scale } = ternarize([0.5, -1.5, 0.1, 0, 2.0, -0.2]);
    expect(Array.from(values)).toEqual([1, -1, 0, 0, 1, 0]);
    expect(scale).toBe(Math.fround(4.3 / 6));
    // W / γ exactly 0.5 and 1.5 (γ = 1): ties to even give 0 and 2, clipped to 1
    expect(Array.from(ternarize([0.5, 1.5, -1, -1]).values)).toEqual([0, 1, -1, -1]);
    const zero = ternarize([0, 0, 0]);
    expect(Array.from(zero.values)).toEqual([0, 0, 0]);
    expect(zero.scale).toBe(Math.fround(1e-5));
  });

  it("quantises activations per token into [-127, 127] with absmax / 127 scales", () => {
    // row 0: absmax 1: 0.5·127 = 63.5 -> 64 (tie to even), 0.25·127 = 31.75 -> 32
    // row 1: absmax 2: 2 -> 127, -1 -> -63.5 -> -64, 0.01 -> 0.635 -> 1
    const q = quantizeRows([0.5, -1, 0.25, 0.0039, 2, -1, 0.01, 0], 4);
    expect(Array.from(q.values)).toEqual([64, -127, 32, 0, 127, -64, 1, 0]);
    expect(Array.from(q.scales)).toEqual([1 / 127, 2 / 127]);
    const zeros = quantizeRows([0, 0], 2);
    expect(Array.from(zeros.values)).toEqual([0, 0]);
    expect(zeros.scales[0]).toBe(1e-5 / 127);
  });

  it("packs 16 ternary values per word so that a shift and a mask give four int8 lanes", () => {
    const values = Array.from({ length: 16 }, (_, i) => [-1, 0, 1][(i * 7) % 3]!);
    const [word] = packTernary(values, 1, 16);
    for (let g = 0; g < 4; g++) {
      const lanes = (word! >>> (2 * g)) & 0x03030303;
      for (let j = 0; j < 4; j++) expect(((lanes >>> (8 * j)) & 0xff) - 1).toBe(values[4 * g + j]);
    }
    expect(ternaryBit(5)).toBe(10);
    // a row of 20 values: two words, the second padded with code 1 (zero)
    const row = Array.from({ length: 20 }, (_, i) => (i % 3) - 1);
    const packed = packTernary(row, 1, 20);
    expect(packed.length).toBe(2);
    expect(Array.from(unpackTernary(packed, 1, 20, "w"))).toEqual(row);
  });

  it("packs int8 rows four to a word, padded to whole ternary words", () => {
    expect(int8WordsPerRow(16)).toBe(4);
    expect(int8WordsPerRow(17)).toBe(8);
    const words = packInt8([1, -1, 127, -127, 5], 1, 5);
    expect(words.length).toBe(4);
    expect(words[0]).toBe(0x817fff01);
    expect(words[1]).toBe(5);
    expect(words[2]).toBe(0);
  });

  it("rejects packed data that is not ternary, naming the tensor and position", () => {
    const bad = packTernary([1, 0, -1], 1, 3);
    bad[0] = bad[0]! | (3 << ternaryBit(1));
    expect(() => unpackTernary(bad, 1, 3, "moe.bank.2.fc1.weight")).toThrow(
      /moe\.bank\.2\.fc1\.weight: not ternary: row 0, column 1/,
    );
    const padded = packTernary([1, 0, -1], 1, 3);
    padded[0] = padded[0]! & ~(3 << ternaryBit(7)); // code 0 (-1) in the padding
    expect(() => unpackTernary(padded, 1, 3, "w")).toThrow(/non-zero padding value/);
    expect(() => unpackTernary(new Uint32Array(3), 1, 3, "w")).toThrow(/has 3 words, expected 1/);
    expect(() => ternaryFromPacked("x.weight", [packTernary([1], 1, 1)], [0], [1, 1])).toThrow(
      /x\.weight_scale: scale must be a positive/,
    );
    expect(() => ternaryFromMaster("x.weight", [1, NaN], [1, 2])).toThrow(PackedWeightError);
  });

  it("round-trips master weights through the t2 buffer (one scale per stacked matrix)", () => {
    const master = [0.3, -0.6, 0.05, 0.9, /* expert 1 */ 4, -4, 0.1, 0];
    const shape = [2, 2, 2];
    const buffer = ternaryFromMaster("bank.{e}.w", master, shape);
    expect(buffer.byteLength).toBe(ternaryBufferBytes(shape));
    const g0 = Math.fround((0.3 + 0.6 + 0.05 + 0.9) / 4);
    const g1 = Math.fround(8.1 / 4);
    expect(Array.from(dequantizeTernary(buffer, shape))).toEqual([g0, -g0, 0, g0, g1, -g1, 0, 0]);
    const again = ternaryFromPacked(
      "bank.{e}.w",
      [packTernary([1, -1, 0, 1], 2, 2), packTernary([1, -1, 0, 0], 2, 2)],
      [g0, g1],
      shape,
    );
    expect(Array.from(again)).toEqual(Array.from(buffer));
  });
});
