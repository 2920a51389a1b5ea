// rope_scaling as transformers computes it: the frequency table, the factor on cos and sin and
// the softmax scale that an imported YaRN spec lowers to, against the numbers transformers itself
// produced for the fixture (reference.json "rope", written by scripts/hf-fixtures/rope.py).
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Node } from "../../compiler/ir/graph.js";
import { fixtureDir, lowerSpec, removeTempDirs, tempDir, writeImportedSpec } from "./helpers.js";

interface RopeReference {
  readonly inv_freq: readonly number[];
  readonly inv_freq_float64_formula: readonly number[];
  readonly attention_factor: number;
  readonly softmax_scale: number;
}

describe("YaRN rope scaling of imported specs", () => {
  afterAll(removeTempDirs);
  for (const name of ["qwen3_moe_yarn", "deepseek_v3_yarn"]) {
    it(`${name}: frequencies, cos/sin factor and softmax scale as transformers computes them`, () => {
      const reference = JSON.parse(
        readFileSync(path.join(fixtureDir(name), "reference.json"), "utf8"),
      ).rope as RopeReference;
      const graph = lowerSpec(writeImportedSpec(name, tempDir("rope-")));
      const ropes = graph.nodes.filter((n): n is Node<"rope"> => n.op === "rope");
      expect(ropes.length).toBeGreaterThan(0);
      for (const rope of ropes) {
        const table = rope.attrs.invFreq!;
        expect(table.length).toBe(reference.inv_freq.length);
        table.forEach((f, i) => {
          // float64 formula exactly; transformers' own table is float32, so within f32 rounding.
          expect(f).toBeCloseTo(reference.inv_freq_float64_formula[i]!, 14);
          expect(Math.abs(f - reference.inv_freq[i]!) / reference.inv_freq[i]!).toBeLessThan(1e-7);
        });
        expect(rope.attrs.attentionFactor ?? 1).toBeCloseTo(reference.attention_factor, 14);
      }
      const attention = graph.nodes.filter((n) => n.op === "attention") as Node<"attention">[];
      expect(attention.length).toBeGreaterThan(0);
      for (const a of attention) {
        const headDim = (graph.values[a.inputs[0]!]!.type.shape[1] as number) / a.attrs.heads;
        expect(a.attrs.scale ?? 1 / Math.sqrt(headDim)).toBeCloseTo(reference.softmax_scale, 14);
      }
    });
  }
});
