// Broken Hugging Face model folders (a fixture copied to a temporary directory, then damaged) and
// bad generate options: each gives exit 1 or 2, one message on stderr naming the file, tensor or
// field at fault, no stack trace, and no model output on stdout.
import { copyFileSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runMoec } from "../helpers/golden.js";
import {
  copyFixture,
  readReference,
  removeTempDirs,
  tempDir,
  writeImportedSpec,
} from "./helpers.js";

afterAll(removeTempDirs);

/** Hang guard: the generate cases compile a plan and open a device before they fail. */
const GUARD = 120_000;
const PROMPT = readReference("mixtral").prompt;

/** Runs moec, which must fail with `code` and print nothing on stdout; returns stderr. */
async function fails(argv: readonly string[], code: 1 | 2): Promise<string> {
  const r = await runMoec(argv);
  expect(r.stdout, "stdout").toBe("");
  expect(r.stderr).not.toContain("    at ");
  expect(r.stderr).toMatch(/^moec: /);
  expect(r.code, r.stderr).toBe(code);
  return r.stderr;
}

function editJson(file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(json);
  writeFileSync(file, JSON.stringify(json, null, 2));
}

/** Rewrites a safetensors file's header (the data after it stays as it is). */
function editHeader(
  file: string,
  edit: (header: Record<string, { shape: number[] }>) => void,
): void {
  const bytes = readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8"));
  edit(header);
  let text = JSON.stringify(header);
  text += " ".repeat((8 - (text.length % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(text.length));
  writeFileSync(
    file,
    Buffer.concat([prefix, Buffer.from(text, "utf8"), bytes.subarray(8 + length)]),
  );
}

const specDir = tempDir("badinput");
const generate = (spec: string, folder: string, ...extra: string[]) => [
  "generate",
  spec,
  "--weights",
  folder,
  "--prompt",
  PROMPT,
  "--max-tokens",
  "4",
  ...extra,
];

describe("moec import-hf refuses configs it cannot express, naming the field", () => {
  it("a rope scaling moec does not implement (llama3)", async () => {
    const folder = copyFixture("deepseek_v3");
    editJson(path.join(folder, "config.json"), (c) => {
      c.rope_scaling = { rope_type: "llama3", factor: 8, original_max_position_embeddings: 64 };
    });
    const err = await fails(["import-hf", folder], 1);
    expect(err).toContain(path.join(folder, "config.json"));
    expect(err).toContain('field "rope_scaling"');
  });

  it("deepseek_v3 with softmax scores (scoring_func)", async () => {
    const folder = copyFixture("deepseek_v3");
    editJson(path.join(folder, "config.json"), (c) => void (c.scoring_func = "softmax"));
    const err = await fails(["import-hf", folder], 1);
    expect(err).toContain('field "scoring_func"');
    expect(err).toContain('"softmax"');
  });

  it("an unknown model_type", async () => {
    const folder = copyFixture("mixtral");
    editJson(path.join(folder, "config.json"), (c) => void (c.model_type = "gpt_oss"));
    const err = await fails(["import-hf", folder], 1);
    expect(err).toContain(path.join(folder, "config.json"));
    expect(err).toContain('model_type "gpt_oss" is not supported');
  });

  it("a field of the wrong type: num_attention_heads as a string", async () => {
    const folder = copyFixture("mixtral");
    editJson(path.join(folder, "config.json"), (c) => void (c.num_attention_heads = "4"));
    const err = await fails(["import-hf", folder], 1);
    expect(err).toContain(path.join(folder, "config.json"));
    expect(err).toContain('field "num_attention_heads"');
    expect(err).toContain('"4"');
  });

  it("config.json that is not JSON", async () => {
    const folder = copyFixture("olmoe");
    writeFileSync(path.join(folder, "config.json"), '{"model_type": "olmoe",');
    const err = await fails(["import-hf", folder], 1);
    expect(err).toContain(path.join(folder, "config.json"));
    expect(err).toContain("not valid JSON");
  });

  it("a folder without config.json", async () => {
    const folder = copyFixture("olmoe");
    rmSync(path.join(folder, "config.json"));
    const err = await fails(["import-hf", folder], 1);
    expect(err).toContain(path.join(folder, "config.json"));
  });
});

describe("moec generate refuses broken checkpoints before running anything", () => {
  const mixtral = writeImportedSpec("mixtral", specDir);
  const qwen2 = writeImportedSpec("qwen2_moe", specDir);

  it(
    "a shard named by the index is missing",
    async () => {
      const folder = copyFixture("qwen2_moe");
      rmSync(path.join(folder, "model-00002-of-00003.safetensors"));
      const err = await fails(generate(qwen2, folder), 1);
      expect(err).toContain(path.join(folder, "model-00002-of-00003.safetensors"));
      expect(err).toContain("missing shard");
    },
    GUARD,
  );

  it(
    "an index naming a shard outside the folder (../x.safetensors), even one that exists",
    async () => {
      const folder = copyFixture("qwen2_moe");
      copyFileSync(
        path.join(folder, "model-00003-of-00003.safetensors"),
        path.join(folder, "..", "x.safetensors"),
      );
      editJson(path.join(folder, "model.safetensors.index.json"), (index) => {
        (index.weight_map as Record<string, string>)["lm_head.weight"] = "../x.safetensors";
      });
      const err = await fails(generate(qwen2, folder), 1);
      expect(err).toContain("model.safetensors.index.json");
      expect(err).toContain("lm_head.weight");
      expect(err).toContain('"../x.safetensors"');
    },
    GUARD,
  );

  it(
    "an index putting a tensor in a shard that lacks it",
    async () => {
      const folder = copyFixture("qwen2_moe");
      editJson(path.join(folder, "model.safetensors.index.json"), (index) => {
        (index.weight_map as Record<string, string>)["lm_head.weight"] =
          "model-00001-of-00003.safetensors";
      });
      const err = await fails(generate(qwen2, folder), 1);
      expect(err).toContain("model-00001-of-00003.safetensors");
      expect(err).toContain("lm_head.weight");
    },
    GUARD,
  );

  it(
    "a shard holding a tensor of the wrong shape: names the tensor and both shapes",
    async () => {
      const folder = copyFixture("qwen2_moe");
      const shard = path.join(folder, "model-00001-of-00003.safetensors");
      const name = "model.layers.0.self_attn.k_proj.weight"; // [32, 64] in the spec
      editHeader(shard, (h) => {
        expect(h[name]!.shape).toEqual([32, 64]);
        h[name]!.shape = [64, 32]; // same byte count: the file itself stays well-formed
      });
      const err = await fails(generate(qwen2, folder), 1);
      expect(err).toContain(name);
      expect(err).toContain("has shape [64, 32], expected [32, 64]");
    },
    GUARD,
  );

  it(
    "a truncated model.safetensors",
    async () => {
      const folder = copyFixture("mixtral");
      const file = path.join(folder, "model.safetensors");
      truncateSync(file, readFileSync(file).length - 1000);
      const err = await fails(generate(mixtral, folder), 1);
      expect(err).toContain(file);
    },
    GUARD,
  );

  it(
    "a model.safetensors whose header is cut short",
    async () => {
      const folder = copyFixture("mixtral");
      const file = path.join(folder, "model.safetensors");
      truncateSync(file, 100);
      const err = await fails(generate(mixtral, folder), 1);
      expect(err).toContain(file);
    },
    GUARD,
  );

  it(
    "a folder with neither model.safetensors nor an index",
    async () => {
      const folder = copyFixture("mixtral");
      rmSync(path.join(folder, "model.safetensors"));
      const err = await fails(generate(mixtral, folder), 1);
      expect(err).toContain("model.safetensors");
      expect(err).toContain(folder);
    },
    GUARD,
  );
});

describe("moec generate refuses a tokenizer that does not fit, and bad options", () => {
  const mixtral = writeImportedSpec("mixtral", specDir);

  it(
    "a tokenizer whose ids go beyond the model's vocabulary (--set vocab=100)",
    async () => {
      const folder = copyFixture("mixtral");
      const err = await fails(generate(mixtral, folder, "--set", "vocab=100"), 1);
      expect(err).toContain(path.join(folder, "tokenizer.json"));
      expect(err).toMatch(/vocabulary/);
      expect(err).toContain("100");
    },
    GUARD,
  );

  it(
    "--prompt without a tokenizer.json in the folder",
    async () => {
      const folder = copyFixture("mixtral");
      rmSync(path.join(folder, "tokenizer.json"));
      const err = await fails(generate(mixtral, folder), 1);
      expect(err).toContain(path.join(folder, "tokenizer.json"));
    },
    GUARD,
  );

  it(
    "a tokenizer.json that is not JSON",
    async () => {
      const folder = copyFixture("mixtral");
      writeFileSync(path.join(folder, "tokenizer.json"), '{"model": {"type": "BPE", ');
      const err = await fails(generate(mixtral, folder), 1);
      expect(err).toContain(path.join(folder, "tokenizer.json"));
      expect(err).toContain("not valid JSON");
    },
    GUARD,
  );

  for (const bad of ["0", "abc", "-3", "2.5"]) {
    it(`--max-tokens ${bad} is a usage error`, async () => {
      const folder = copyFixture("mixtral");
      const argv = generate(mixtral, folder).filter((a) => a !== "--max-tokens" && a !== "4");
      const err = await fails([...argv, `--max-tokens=${bad}`], 2);
      expect(err).toContain(`--max-tokens must be a positive integer, got '${bad}'`);
    });
  }

  it(
    "--max-tokens beyond what a KV cache can bind says how many positions fit, before any weight is read",
    async () => {
      const folder = copyFixture("mixtral");
      rmSync(path.join(folder, "model.safetensors"));
      const argv = generate(mixtral, folder).filter((a) => a !== "--max-tokens" && a !== "4");
      const err = await fails([...argv, "--max-tokens=1000000000"], 1);
      expect(err).toMatch(/k_cache needs [\d.]+ GiB in one buffer; .* at most \d+ positions fit/);
    },
    GUARD,
  );

  it("--gpu-weights other than f32 or f16 is a usage error", async () => {
    const folder = copyFixture("mixtral");
    const err = await fails([...generate(mixtral, folder), "--gpu-weights", "bf16"], 2);
    expect(err).toContain("--gpu-weights takes f32 or f16, got 'bf16'");
  });

  it(
    "--gpu-weights f16 with an f32 weight beyond the f16 range names the weight and value",
    async () => {
      const folder = copyFixture("mixtral");
      const file = path.join(folder, "model.safetensors");
      const bytes = readFileSync(file);
      const length = Number(bytes.readBigUInt64LE(0));
      const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8"));
      const name = "model.layers.1.post_attention_layernorm.weight";
      bytes.writeFloatLE(1e5, 8 + length + header[name].data_offsets[0] + 4 * 3);
      writeFileSync(file, bytes);
      const err = await fails([...generate(mixtral, folder), "--gpu-weights", "f16"], 1);
      expect(err).toContain(name);
      expect(err).toContain("100000");
      expect(err).toMatch(/f16/);
    },
    GUARD,
  );

  it("--prompt and --ids together, or neither, are usage errors", async () => {
    const folder = copyFixture("mixtral");
    expect(await fails([...generate(mixtral, folder), "--ids", "1,2"], 2)).toContain("--prompt");
    expect(await fails(["generate", mixtral, "--weights", folder], 2)).toContain("--ids");
  });
});
