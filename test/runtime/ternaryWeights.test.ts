// Loading ternary (t2) weights: f32 masters quantised at load, packed words with their scale,
// stacked experts per expert or as one tensor, and every malformed input named in a message.
import { describe, expect, it } from "vitest";
import { dequantizeTernary, packTernary, ternaryBit } from "../../plan/bitnet.js";
import { type TernarySource, resolveTernaryWeight } from "../../runtime/ternaryWeights.js";

function load(name: string, shape: number[], given: Record<string, TernarySource>) {
  const used = new Set<string>();
  const problems: string[] = [];
  const buffer = resolveTernaryWeight(name, shape, (n) => given[n], used, problems);
  return { buffer, used: [...used].sort(), problems };
}

describe("ternary weight loading", () => {
  const master = Float32Array.from([0.4, -0.9, 0.05, 1.2, -0.3, 0]); // [2, 3]
  const gamma = Math.fround((0.4 + 0.9 + 0.05 + 1.2 + 0.3) / 6);
  // W / γ = 0.84, -1.89, 0.11, 2.53, -0.63, 0
  const values = [1, -1, 0, 1, -1, 0];

  it("quantises f32 master weights at load", () => {
    const { buffer, problems, used } = load("fc.weight", [2, 3], { "fc.weight": master });
    expect(problems).toEqual([]);
    expect(used).toEqual(["fc.weight"]);
    expect(Array.from(dequantizeTernary(buffer!, [2, 3]))).toEqual(values.map((v) => v * gamma));
  });

  it("takes packed words with their scale, per expert or stacked", () => {
    const packed = { shape: [2, 1], data: packTernary(values, 2, 3) };
    const scale = Float32Array.of(gamma);
    const one = load("fc.weight", [2, 3], { "fc.weight": packed, "fc.weight_scale": scale });
    expect(one.problems).toEqual([]);
    expect(Array.from(one.buffer!)).toEqual(
      Array.from(load("fc.weight", [2, 3], { "fc.weight": master }).buffer!),
    );
    const perExpert = load("bank.{e}.w", [2, 2, 3], {
      "bank.0.w": packed,
      "bank.0.w_scale": scale,
      "bank.1.w": master,
    });
    expect(perExpert.problems).toEqual([]);
    expect(perExpert.used).toEqual(["bank.0.w", "bank.0.w_scale", "bank.1.w"]);
    const stacked = load("bank.{e}.w", [2, 2, 3], {
      "bank.{e}.w": { shape: [2, 2, 1], data: packTernary([...values, ...values], 4, 3) },
      "bank.{e}.w_scale": Float32Array.of(gamma, gamma),
    });
    expect(Array.from(stacked.buffer!)).toEqual(Array.from(perExpert.buffer!));
  });

  it("names the tensor and what is wrong with it", () => {
    const bad = packTernary(values, 2, 3);
    bad[1] = bad[1]! | (3 << ternaryBit(2));
    const scale = Float32Array.of(gamma);
    const problem = (given: Record<string, TernarySource>, shape = [2, 3]) =>
      load("moe.bank.{e}.fc1.weight".replace("{e}", "3"), shape, given).problems.join("\n");
    const name = "moe.bank.3.fc1.weight";
    expect(problem({ [name]: { shape: [2, 1], data: bad }, [`${name}_scale`]: scale })).toMatch(
      /weight moe\.bank\.3\.fc1\.weight: not ternary: row 1, column 2/,
    );
    expect(problem({ [name]: { shape: [2, 1], data: packTernary(values, 2, 3) } })).toMatch(
      /missing weight moe\.bank\.3\.fc1\.weight_scale \[1\]/,
    );
    expect(
      problem({ [name]: { shape: [2, 3], data: new Uint32Array(6) }, [`${name}_scale`]: scale }),
    ).toMatch(/packed ternary words must have shape \[2, 1\]/);
    expect(
      problem({
        [name]: { shape: [2, 1], data: packTernary(values, 2, 3) },
        [`${name}_scale`]: Float32Array.of(-1),
      }),
    ).toMatch(/weight_scale: scale must be a positive finite number, got -1/);
    expect(problem({ [name]: master, [`${name}_scale`]: scale })).toMatch(
      /_scale is given with f32 master weights/,
    );
    expect(problem({ [name]: Float32Array.from([1, 2, NaN, 0, 0, 0]) })).toMatch(
      /master value NaN at index 2 is not finite/,
    );
    expect(problem({})).toMatch(/missing weight moe\.bank\.3\.fc1\.weight \[2, 3\]/);
  });
});
