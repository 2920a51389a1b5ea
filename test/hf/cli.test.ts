// `moec import-hf` and `moec generate` on the Hugging Face fixtures, in-process through main():
// the imported spec checks and names exactly the checkpoint's tensors (read here from the
// safetensors headers, independently of moec's reader); generate prints transformers' own greedy
// text for the reference prompt, --stats says which experts each fed-back token used, --ids
// works without a tokenizer; moec train trains imported specs at -O0 and -O2, and fine-tunes a
// checkpoint (--init) on its tokenizer's ids; moec eval scores a model folder as the float64
// reference does.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { escapeControl } from "../../cli/common.js";
import { weightNodes } from "../../compiler/ir/graph.js";
import { runReference } from "../../compiler/ir/interpret.js";
import { loadTokenizer } from "../../runtime/text/tokenizer.js";
import { TokenCorpus } from "../../runtime/train/data.js";
import { runMoec } from "../helpers/golden.js";
import {
  copyFixture,
  fixtureDir,
  lowerSpec,
  readReference,
  sorted,
  SUPPORTED,
  removeTempDirs,
  tempDir,
  writeImportedSpec,
} from "./helpers.js";

afterAll(removeTempDirs);

const IMPORTABLE = [...SUPPORTED, "mixtral_bf16", "mixtral_f16"];
const GREEDY_TOKENS = 24;
/** Hang guard: generate compiles, opens a device and runs 24 times. */
const GUARD = 120_000;

/** Tensor name -> shape, from the safetensors headers themselves (8-byte length, then JSON). */
function checkpointShapes(dir: string, given?: string[]): Map<string, number[]> {
  return new Map([...checkpointTensors(dir, given)].map(([name, t]) => [name, t.shape]));
}

/** Tensor name -> shape and raw bytes, read from the safetensors files themselves. */
function checkpointTensors(
  dir: string,
  given?: string[],
): Map<string, { shape: number[]; bytes: Buffer }> {
  const index = path.join(dir, "model.safetensors.index.json");
  let files = given ?? ["model.safetensors"];
  try {
    const map = JSON.parse(readFileSync(index, "utf8")).weight_map as Record<string, string>;
    files = given ?? [...new Set(Object.values(map))];
  } catch {
    // no index: one file
  }
  const tensors = new Map<string, { shape: number[]; bytes: Buffer }>();
  for (const f of files) {
    const bytes = readFileSync(path.join(dir, f));
    const length = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8")) as Record<
      string,
      { shape: number[]; data_offsets: [number, number] }
    >;
    for (const [name, t] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      const [from, to] = t.data_offsets;
      tensors.set(name, {
        shape: t.shape,
        bytes: bytes.subarray(8 + length + from, 8 + length + to),
      });
    }
  }
  return tensors;
}

describe("moec import-hf", () => {
  const out = tempDir("import");

  for (const name of IMPORTABLE) {
    it(
      `${name}: the printed spec checks, and its weights are the checkpoint's tensors, shapes included`,
      async () => {
        const r = await runMoec(["import-hf", fixtureDir(name)]);
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
        expect(r.stdout).toContain('import "std/hf.moe"');
        const file = path.join(out, `${name}.moe`);
        writeFileSync(file, r.stdout);

        const check = await runMoec(["check", file]);
        expect(check.stderr).toBe("");
        expect(check.code).toBe(0);
        expect(check.stdout).toMatch(/: ok \(model \w+ForCausalLM, \d+ weight tensors\)\n$/);

        const params = await runMoec(["params", file, "--json"]);
        expect(params.code).toBe(0);
        const weights = JSON.parse(params.stdout).weights as { name: string; shape: number[] }[];
        const spec = new Map(weights.map((w) => [w.name, w.shape]));
        // Tied embeddings (qwen3_moe) have no lm_head.weight on disk; the spec reads the embedding.
        expect(spec).toEqual(checkpointShapes(fixtureDir(name)));
      },
      GUARD,
    );
  }

  it("--out FILE writes the same spec and says so", async () => {
    const printed = await runMoec(["import-hf", fixtureDir("qwen2_moe")]);
    const file = path.join(out, "written.moe");
    const r = await runMoec(["import-hf", fixtureDir("qwen2_moe"), "--out", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`wrote ${file}\n`);
    expect(readFileSync(file, "utf8")).toBe(printed.stdout);
    const check = await runMoec(["check", file]);
    expect(check.code).toBe(0);
  });
});

describe("moec generate", () => {
  const dir = tempDir("generate");
  const ref = readReference("mixtral");
  const spec = path.join(dir, "mixtral.moe");

  it(
    "--prompt: prints the prompt and transformers' greedy text, speeds on stderr; --stats: each fed-back token's experts per layer",
    async () => {
      expect((await runMoec(["import-hf", fixtureDir("mixtral"), "--out", spec])).code).toBe(0);
      const stats = path.join(dir, "stats.json");
      const argv = ["generate", spec, "--weights", fixtureDir("mixtral"), "--prompt", ref.prompt];
      const r = await runMoec([...argv, "--max-tokens", String(GREEDY_TOKENS), "--stats", stats]);
      expect(r.code).toBe(0);
      // main escapes control characters of everything it prints (cli/common.ts escapeControl).
      expect(r.stdout).toBe(escapeControl(ref.prompt + ref.greedy_text) + "\n");
      expect(r.stderr).toMatch(/^prefill: 17 tokens in [\d.]+ ms \([\d.]+ tokens\/s/m);
      expect(r.stderr).toMatch(
        /^decode: 23 tokens in [\d.]+ ms \([\d.]+ tokens\/s\); stopped: max tokens$/m,
      );
      expect(r.stderr).toContain(`wrote ${stats}`);
      expect(r.stderr).not.toMatch(/warning|error/i);

      const written = JSON.parse(readFileSync(stats, "utf8")) as {
        prompt: number[];
        generated: number[];
        tokens: { id: number; text: string; experts: Record<string, number[][]> }[];
      };
      expect(written.prompt).toEqual(ref.input_ids);
      expect(written.generated).toEqual(ref.greedy);
      // Every generated token but the last is fed back, at sequence position prompt + i.
      expect(written.tokens.map((t) => t.id)).toEqual(ref.greedy.slice(0, -1));
      written.tokens.forEach((t, i) => {
        const layers = Object.keys(t.experts);
        expect(layers).toEqual(
          ref.moe_layers.map((l) => `model.layers.${l}.block_sparse_moe.gate`),
        );
        layers.forEach((scope, l) => {
          const want = ref.sequence_experts[String(ref.moe_layers[l])]![ref.input_ids.length + i]!;
          expect(t.experts[scope], `token ${i}, ${scope}`).toEqual([sorted(want)]);
        });
      });
    },
    GUARD,
  );

  it(
    "--gpu-weights f16 on the f16 checkpoint: transformers' greedy text for it",
    async () => {
      const f16 = readReference("mixtral_f16");
      const specFile = writeImportedSpec("mixtral_f16", dir);
      const r = await runMoec([
        "generate",
        specFile,
        "--weights",
        fixtureDir("mixtral_f16"),
        "--prompt",
        f16.prompt,
        "--max-tokens",
        String(GREEDY_TOKENS),
        "--gpu-weights",
        "f16",
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(escapeControl(f16.prompt + f16.greedy_text) + "\n");
      expect(r.stderr).not.toMatch(/warning|error/i);
    },
    GUARD,
  );

  it(
    "--temperature with --seed: the same seed gives the same tokens, run after run",
    async () => {
      const argv = [
        "generate",
        writeImportedSpec("mixtral", tempDir("sampling")),
        "--weights",
        fixtureDir("mixtral"),
        "--ids",
        ref.input_ids.join(","),
        "--max-tokens",
        "12",
        "--temperature",
        "0.9",
        "--top-k",
        "50",
      ];
      const first = await runMoec([...argv, "--seed", "7"]);
      const again = await runMoec([...argv, "--seed", "7"]);
      expect(first.code).toBe(0);
      expect(again.stdout).toBe(first.stdout);
      const ids = first.stdout.trim().split(" | ")[1]!.split(" ").map(Number);
      expect(ids.length).toBe(12);
      for (const id of ids)
        expect(Number.isInteger(id) && id >= 0 && id < ref.logits[0]!.length).toBe(true);
    },
    GUARD,
  );

  it(
    "--ids: no tokenizer needed; prints the prompt ids, '|', then the greedy ids (-O0)",
    async () => {
      const folder = copyFixture("mixtral");
      rmSync(path.join(folder, "tokenizer.json"));
      rmSync(path.join(folder, "tokenizer_config.json"));
      const specFile = path.join(dir, "ids.moe");
      expect((await runMoec(["import-hf", folder, "--out", specFile])).code).toBe(0);
      const r = await runMoec([
        "generate",
        specFile,
        "--weights",
        folder,
        "--ids",
        ref.input_ids.join(","),
        "--max-tokens",
        String(GREEDY_TOKENS),
        "-O0",
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${ref.input_ids.join(" ")} | ${ref.greedy.join(" ")}\n`);
      expect(r.stderr).not.toMatch(/warning|error/i);
    },
    GUARD,
  );
});

// Training an imported architecture: byte-level (vocab 256), so these are fresh weights under the
// checkpoint's own names, not the fixture's; the first step's loss comes before any update, so
// -O0 and -O2 must print the same one.
describe("moec train on specs imported from Hugging Face configs", () => {
  const dir = tempDir("train-hf");
  const text = path.join(dir, "text.txt");
  writeFileSync(text, "Experts of the model run on the device. ".repeat(30));
  for (const name of ["qwen2_moe", "deepseek_v3"]) {
    it(
      `${name}: trains at -O0 and -O2 from the same first loss, writes a checkpoint under HF names`,
      async () => {
        const spec = writeImportedSpec(name, dir);
        const losses: string[] = [];
        for (const level of ["-O0", "-O2"]) {
          const out = path.join(dir, `${name}${level}`);
          const r = await runMoec([
            "train",
            spec,
            "--data",
            text,
            "--steps",
            "2",
            "--batch",
            "1",
            "--seq",
            "16",
            "--eval-every",
            "2",
            "--out",
            out,
            level,
          ]);
          expect(r.stderr).toBe("");
          expect(r.code).toBe(0);
          const first = /step 1\/2 {2}loss (\d+\.\d{4})/.exec(r.stdout);
          expect(first, r.stdout).not.toBeNull();
          losses.push(first![1]!);
          expect(r.stdout).toMatch(/validation: cross-entropy \d+\.\d{4} nats\/byte/);
          const header = readFileSync(path.join(out, "checkpoint.safetensors"));
          const names = JSON.parse(
            header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString("utf8"),
          ) as Record<string, unknown>;
          expect(names["model.embed_tokens.weight"]).toBeDefined();
          expect(names["model.layers.1.mlp.experts.7.down_proj.weight"]).toBeDefined();
        }
        expect(losses[1]).toBe(losses[0]);
      },
      GUARD,
    );
  }
});

// Fine-tuning: --init starts from the checkpoint's own weights and trains on the tokenizer's ids.
// With a learning rate of 1e-30 no weight moves in f32, so the checkpoint written must hold the
// fixture's tensors exactly, and generating from it must give transformers' greedy tokens.
describe("moec train --init: fine-tuning a Hugging Face checkpoint", () => {
  const dir = tempDir("finetune");
  const qwen3 = readReference("qwen3_moe");
  const text = path.join(dir, "text.txt");
  writeFileSync(text, "Experts of the model run on the device. ".repeat(30));
  it(
    "qwen3_moe: trains on tokens from its weights, writes them back, and generates transformers' greedy tokens",
    async () => {
      const spec = writeImportedSpec("qwen3_moe", dir);
      const out = path.join(dir, "run");
      const r = await runMoec([
        "train",
        spec,
        "--init",
        fixtureDir("qwen3_moe"),
        "--data",
        text,
        "--steps",
        "2",
        "--batch",
        "1",
        "--seq",
        "16",
        "--lr",
        "1e-30",
        "--out",
        out,
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/training tokens, \d+ held out, from the weights of /);
      expect(r.stdout).toMatch(/validation: cross-entropy \d+\.\d{4} nats\/token/);
      const ckpt = path.join(out, "checkpoint.safetensors");
      const mine = checkpointTensors(out, ["checkpoint.safetensors"]);
      for (const [name, t] of checkpointTensors(fixtureDir("qwen3_moe"))) {
        expect(mine.get(name)?.shape, name).toEqual(t.shape);
        expect(mine.get(name)!.bytes.equals(t.bytes), `${name} unchanged`).toBe(true);
      }
      const g = await runMoec([
        "generate",
        spec,
        "--weights",
        ckpt,
        "--ids",
        qwen3.input_ids.join(","),
        "--max-tokens",
        String(GREEDY_TOKENS),
      ]);
      expect(g.code).toBe(0);
      expect(g.stderr).not.toMatch(/warning|error/i);
      expect(g.stdout).toBe(`${qwen3.input_ids.join(" ")} | ${qwen3.greedy.join(" ")}\n`);
    },
    GUARD,
  );

  it("refuses --init with --resume, a folder without weights, a missing tokenizer and binary data, by name", async () => {
    const spec = writeImportedSpec("qwen3_moe", dir);
    const both = await runMoec(["train", spec, "--init", dir, "--resume", text, "--data", text]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--init starts a run from given weights, --resume continues one/);
    const empty = await runMoec(["train", spec, "--init", dir, "--data", text, "--steps", "1"]);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toBe(
      `moec: ${dir}: no model.safetensors and no model.safetensors.index.json (the checkpoint's weights)\n`,
    );
    const missing = path.join(dir, "missing.json");
    const noTokenizer = await runMoec(["train", spec, "--tokenizer", missing, "--data", text]);
    expect(noTokenizer.code).toBe(1);
    expect(noTokenizer.stderr).toBe(`moec: --tokenizer ${missing}: no such file\n`);
    const binary = path.join(dir, "binary.dat");
    writeFileSync(binary, Uint8Array.from([0, 1, 2, 3]));
    const init = ["--init", fixtureDir("qwen3_moe")];
    const notText = await runMoec(["train", spec, ...init, "--data", binary, "--steps", "1"]);
    expect(notText.code).toBe(1);
    expect(notText.stderr).toBe(`moec: ${binary} is not text: it holds a NUL byte at offset 0\n`);
  });
});

// moec eval on a Hugging Face model folder: perplexity on a text's held-out tail, through its
// own tokenizer, against the float64 reference interpreter run on the same sequences with the
// checkpoint's tensors (read here from the safetensors file itself).
describe("moec eval on a Hugging Face model folder", () => {
  const dir = tempDir("eval-hf");
  const text = path.join(dir, "text.txt");
  writeFileSync(
    text,
    "Experts of the model run on the device, and the router picks them. ".repeat(12),
  );
  it(
    "qwen3_moe: the held-out cross-entropy of the float64 reference",
    async () => {
      const spec = writeImportedSpec("qwen3_moe", dir);
      const [seq, count] = [16, 2];
      const r = await runMoec([
        "eval",
        spec,
        "--weights",
        fixtureDir("qwen3_moe"),
        "--data",
        text,
        "--seq",
        String(seq),
        "--batch",
        String(count),
      ]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /^Qwen3MoeForCausalLM on .*text\.txt \(2 held-out sequences of 16 tokens;/,
      );
      const printed = Number(/cross-entropy (\d+\.\d{4}) nats\/token/.exec(r.stdout)![1]);

      const graph = lowerSpec(spec);
      const tensors = checkpointTensors(fixtureDir("qwen3_moe"));
      const f64 = (name: string) => {
        const { bytes } = tensors.get(name)!;
        const f32 = new Float32Array(
          bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
        );
        return Float64Array.from(f32);
      };
      const weights = new Map(
        weightNodes(graph).map((w) => {
          const shape = graph.values[w.outputs[0]!]!.type.shape as number[];
          const name = w.attrs.name;
          const parts = name.includes("{e}")
            ? Array.from({ length: shape[0]! }, (_, e) => f64(name.replace("{e}", String(e))))
            : [f64(name)];
          const data = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
          parts.reduce((at, p) => (data.set(p, at), at + p.length), 0);
          return [name, { shape, data }] as const;
        }),
      );
      const tokenizer = loadTokenizer(
        readFileSync(path.join(fixtureDir("qwen3_moe"), "tokenizer.json"), "utf8"),
      );
      const ids = Int32Array.from(tokenizer.encode(readFileSync(text, "utf8")));
      const held = new TokenCorpus(ids, seq, text, "token").validationSequences(count);
      expect(held).toHaveLength(count);
      let ce = 0;
      for (const s of held) {
        const inputs = new Map([["ids", { shape: [seq], data: Float64Array.from(s.ids) }]]);
        const logits = runReference(graph, inputs, weights).outputs.values().next().value!;
        const vocab = logits.shape[1]!;
        for (let t = 0; t < seq; t++) {
          const row = logits.data.subarray(t * vocab, (t + 1) * vocab);
          const max = Math.max(...row);
          const lse = max + Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0));
          ce += (lse - row[s.targets[t]!]!) / (seq * held.length);
        }
      }
      expect(Math.abs(printed - ce)).toBeLessThan(2e-4);
    },
    GUARD,
  );
});
