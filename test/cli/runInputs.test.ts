// `moec run` without an input file: --tokens N makes random inputs of the model's declared shapes
// (checked against the float64 reference on the same documented inputs), --ids gives a language
// model its token ids (checked against the vocabulary); run and compile say what they wrote.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { weightDecls } from "../../compiler/ir/graph.js";
import { randomTensor } from "../../runtime/random.js";
import { parseSafetensors, toFloat32 } from "../../runtime/safetensors.js";
import { initWeights } from "../../runtime/weights.js";
import { runMoec } from "../helpers/golden.js";
import { loadGraph, reference, relL2 } from "../runtime/helpers.js";

const LAYER = ["dim=32", "experts=4", "ffn=64"];
const LM = ["vocab=64", "dim=32", "layers=2", "experts=4", "moe_ffn=64"];
const sets = (s: readonly string[]) => s.flatMap((x) => ["--set", x]);

describe("moec run --tokens / --ids", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "moec-run-inputs-"));

  it("--tokens N --seed S: random inputs of the declared shape, outputs as the reference", async () => {
    const out = path.join(dir, "y.safetensors");
    const stats = path.join(dir, "stats.json");
    const argv = ["run", "models/smoe.moe", ...sets(LAYER), "--tokens", "7", "--seed", "3"];
    const r = await runMoec([...argv, "--output", out, "--stats", stats]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^y: \[7, 32\]/m);
    // It says what it wrote.
    expect(r.stdout).toContain(`wrote ${out}\n`);
    expect(r.stdout).toContain(`wrote ${stats}\n`);
    // The documented inputs: x uniform in (-1, 1) from stream seed + 1; weights from the seed.
    const graph = loadGraph("models/smoe.moe", LAYER);
    const x = { shape: [7, 32], data: randomTensor([7, 32], 3 + 1) };
    const weights = initWeights(weightDecls(graph), 3);
    const expected = reference(graph, new Map([["x", x]]), weights).outputs.get("y")!;
    const y = parseSafetensors(readFileSync(out), out).tensors.get("y")!;
    expect(y.shape).toEqual([7, 32]);
    expect(relL2(toFloat32(y, "y", out), expected.data)).toBeLessThan(1e-5);
    const json = JSON.parse(readFileSync(stats, "utf8"));
    expect(json.tokens).toBe(7);
    // The field says what was counted, without repeating its own name.
    expect(json.counted).toMatch(/^kept \(sub-\)token assignments/);
    // Another seed gives other inputs.
    const other = await runMoec([...argv.slice(0, -1), "4"]);
    expect(other.code).toBe(0);
    expect(other.stdout.match(/^y: .*$/m)![0]).not.toBe(r.stdout.match(/^y: .*$/m)![0]);
  }, 60_000);

  it("--tokens on a language model draws ids from its vocabulary", async () => {
    const r = await runMoec(["run", "models/lm_smoe.moe", ...sets(LM), "--tokens", "5"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^logits: \[5, 64\]/m);
  }, 60_000);

  it("--ids 1,2,3 runs a language model on those tokens", async () => {
    const r = await runMoec(["run", "models/lm_smoe.moe", ...sets(LM), "--ids", "1,2, 63"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^logits: \[3, 64\]/m);
    expect(r.stdout).toMatch(/3 tokens x 1 head = 3 routed rows/);
  }, 60_000);

  it("--ids outside the vocabulary is an error naming the id and the vocabulary", async () => {
    const r = await runMoec(["run", "models/lm_smoe.moe", ...sets(LM), "--ids", "1,64"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/id 64 \(position 2\) is outside the vocabulary of 64 tokens/);
    expect(r.stdout).toBe("");
  }, 60_000);

  it("--ids on a model without token ids says to use --tokens", async () => {
    const r = await runMoec(["run", "models/smoe.moe", ...sets(LAYER), "--ids", "1,2"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--ids is for language models.*x: f32\[T, 32\].*--tokens N/);
  });

  for (const [args, message] of [
    [[], /run needs inputs: --tokens N .*--ids .*--input/],
    [["--tokens", "4", "--ids", "1"], /give one of --tokens, --ids and --input/],
    [["--tokens", "0"], /--tokens must be a positive integer, got '0'/],
    [["--tokens", "2.5"], /--tokens must be a positive integer/],
    [["--ids", "1,x"], /--ids: 'x' \(position 2\) is not a token id/],
    [["--ids", "1,-2"], /--ids: '-2' \(position 2\) is not a token id/],
    [["--ids", ""], /--ids needs a comma-separated list/],
  ] as const) {
    it(`usage error: run ${args.join(" ") || "(no inputs)"}`, async () => {
      const r = await runMoec(["run", "models/smoe.moe", ...sets(LAYER), ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    });
  }

  it("compile says which files it wrote", async () => {
    const out = path.join(dir, "plan");
    const r = await runMoec(["compile", "models/smoe.moe", ...sets(LAYER), "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `wrote ${path.join(out, "plan.json")}, ${path.join(out, "plan.txt")}`,
    );
    expect(r.stdout).toMatch(/kernels in .*kernels\/ \(\d+ dispatches, -O2\)/);
  });
});
