// Budget before work and non-finite values (README, "Limits checked before a run" and
// "Non-finite values"): a model too large for the device or the machine fails fast with a message
// saying what would fit, before any weight is generated or read; non-finite weights are an error
// naming the tensor and index; non-finite outputs are a warning naming the output and how many.
import { mkdtempSync, writeFileSync } from "node:fs";
import { totalmem, tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../cli/main.js";
import { compileGraph } from "../../compiler/compile.js";
import { weightDecls } from "../../compiler/ir/graph.js";
import { checkBudget } from "../../runtime/budget.js";
import { checkWeightsFinite, nonFiniteOutputWarnings } from "../../runtime/finite.js";
import { writeSafetensors } from "../../runtime/safetensors.js";
import { initWeights } from "../../runtime/weights.js";
import { runMoec } from "../helpers/golden.js";
import { loadGraph } from "../runtime/helpers.js";

const dir = mkdtempSync(path.join(tmpdir(), "moec-limits-"));

/** Mixtral 8x7B's shape: 32 blocks of width 4096, 8 SwiGLU experts of width 14336, top-2. */
const MIXTRAL = `import "std/transformer.moe"

model Mixtral(vocab: int = 32000, dim: int = 4096, layers: int = 32, attn_heads: int = 32,
              experts: int = 8, top_k: int = 2, moe_ffn: int = 14336) {
  lm = DecoderLM(vocab, dim, layers, attn_heads, "smoe",
                 experts = experts, top_k = top_k, moe_ffn = moe_ffn, moe_every = 1)

  forward(ids: i32[T]) -> logits: f32[T, vocab] {
    return lm(ids)
  }
}
`;

describe("budget before work", () => {
  const spec = path.join(dir, "mixtral.moe");
  writeFileSync(spec, MIXTRAL);

  it("a full-size Mixtral fails fast on the binding limit, no weights generated", async () => {
    const r = await runMoec(["run", spec, "--tokens", "4"]);
    expect(r.code, r.stderr).toBe(EXIT.errors);
    // The embedding (32000 x 4096 f32, 500 MiB) is the first weight over the binding limit;
    // 128 MiB hold 8192 rows of 4096 f32 (16 KiB each), so a smaller vocabulary would fit.
    expect(r.stderr).toMatch(
      /^moec: weight lm\.embed\.weight \[32000, 4096\] needs 500 MiB in one binding; .* binds at most [\d.]+ [KMG]iB: at most \d+ of its 32000 rows fit/,
    );
    expect(r.stdout).toBe("");
  }, 120_000);

  it("weights that fit each binding but not the machine: the weights alone need X GB", async () => {
    // 512 blocks of 8 experts of width 4096 x 1024: each bank 128 MiB (fits), about 200 GiB in all.
    const r = await runMoec([
      "run",
      spec,
      "--tokens",
      "4",
      "--set",
      "dim=1024",
      "--set",
      "moe_ffn=4096",
      "--set",
      "layers=512",
      "--set",
      "attn_heads=8",
    ]);
    expect(r.code, r.stderr).toBe(EXIT.errors);
    expect(r.stderr).toMatch(
      /moec: the weights alone need [\d.]+ GiB; this machine has [\d.]+ GiB/,
    );
  }, 120_000);

  it("too many tokens for a binding says how many fit (from the plan, no device needed)", () => {
    const graph = loadGraph("models/smoe.moe", ["dim=32", "experts=4", "ffn=64"]);
    const { plan } = compileGraph(graph, { level: 0 });
    const budget = { maxStorageBufferBindingSize: 2 ** 20, maxBufferSize: 2 ** 30 };
    expect(() => checkBudget(plan, budget, { T: 4 })).not.toThrow();
    expect(() => checkBudget(plan, budget, { T: 1_000_000 })).toThrow(
      /^at T=1000000, buffer .* needs .*; this device binds at most 1 MiB per buffer; at most T = \d+ fits$/,
    );
    // The T it names fits, and one more does not.
    try {
      checkBudget(plan, budget, { T: 1_000_000 });
    } catch (e) {
      const t = Number(/at most T = (\d+)/.exec((e as Error).message)![1]);
      expect(() => checkBudget(plan, budget, { T: t })).not.toThrow();
      expect(() => checkBudget(plan, budget, { T: t + 1 })).toThrow();
    }
    const memory = { ...budget, maxStorageBufferBindingSize: 2 ** 30, memoryBytes: 2 ** 20 };
    expect(() => checkBudget(plan, memory, { T: 100_000 })).toThrow(
      /weights and activations need .*; this machine has 1 MiB of memory; at most T = \d+ fits/,
    );
    expect(totalmem()).toBeGreaterThan(0);
  });
});

describe("non-finite values", () => {
  const MODEL = ["models/smoe.moe", "--set", "dim=16", "--set", "ffn=32"];
  const graph = loadGraph(
    MODEL[0]!,
    MODEL.slice(1).filter((a) => a !== "--set"),
  );
  const weights = initWeights(weightDecls(graph), 1);

  it("a weight holding NaN or an infinity is an error naming the tensor and first index", () => {
    const poisoned = new Map(weights);
    const name = [...weights.keys()].find((n) => n.endsWith("router.weight"))!;
    const data = Float32Array.from(weights.get(name)!);
    data[5] = Infinity;
    data[9] = NaN;
    poisoned.set(name, data);
    expect(() => checkWeightsFinite(poisoned)).toThrow(`weight ${name} holds Infinity at index 5`);
    expect(() => checkWeightsFinite(weights)).not.toThrow();
  });

  it("moec run: NaN in a weights file fails naming the tensor; before any output", async () => {
    const tensors = [...weights].map(([name, data]) => {
      const shape = weightDecls(graph).find((w) => w.name === name)!.shape;
      return { name, dtype: "F32" as const, shape: [...shape], data: Float32Array.from(data) };
    });
    const bank = tensors.find((t) => t.name.includes("{e}"))!;
    bank.data[7] = NaN;
    const file = path.join(dir, "nan.safetensors");
    writeFileSync(file, writeSafetensors(tensors));
    const r = await runMoec(["run", ...MODEL, "--tokens", "3", "--weights", file]);
    expect(r.code, r.stderr).toBe(EXIT.errors);
    expect(r.stderr).toContain(`weight ${bank.name} holds NaN at index 7`);
    expect(r.stdout).toBe("");
  }, 120_000);

  it("moec run: an input with NaN gives output warnings with counts", async () => {
    const x = Float32Array.from({ length: 3 * 16 }, (_, i) => Math.sin(i + 1));
    x[16] = NaN; // row 1
    const file = path.join(dir, "x.safetensors");
    writeFileSync(file, writeSafetensors([{ name: "x", dtype: "F32", shape: [3, 16], data: x }]));
    const r = await runMoec(["run", ...MODEL, "--input", file]);
    expect(r.code, r.stderr).toBe(EXIT.ok);
    expect(r.stderr).toMatch(/warning: output 'y' has 16 NaN of 48 values \(first at index 16\)/);
  }, 120_000);

  it("warnings count NaN and infinities per output", () => {
    const outputs = new Map([
      ["y", { shape: [4], data: Float32Array.from([1, NaN, Infinity, -Infinity]) }],
      ["ok", { shape: [1], data: Float32Array.from([0]) }],
    ]);
    expect(nonFiniteOutputWarnings(outputs)).toEqual([
      expect.stringMatching(
        /^output 'y' has 1 NaN and 2 infinite of 4 values \(first at index 1\)/,
      ),
    ]);
  });
});
