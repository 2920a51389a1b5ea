// `moec train`: a few steps of a tiny language model on a small text file print progress and the
// held-out perplexity and write a checkpoint under the weight names of `moec params`; bad input
// (empty or binary data, a NaN learning rate, a sequence over the limit, a layer spec) gives a
// clear error and writes nothing.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT } from "../../cli/common.js";
import { parseSafetensors } from "../../runtime/safetensors.js";
import { runMoec } from "../helpers/golden.js";

const dir = mkdtempSync(path.join(tmpdir(), "moec-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = path.join(dir, "text.txt");
writeFileSync(text, "the quick brown fox jumps over the lazy dog. ".repeat(40));
const TINY = ["dim=8", "layers=2", "attn_heads=2", "experts=4", "moe_ffn=8"].flatMap((s) => [
  "--set",
  s,
]);

/** `moec train ARGV`, in this process, through the CLI's own entry point. */
const moecTrain = (argv: string[]) => runMoec(["train", ...argv]);

describe("moec train", { timeout: 120_000 }, () => {
  it("trains a tiny language model, reports progress and perplexity, writes a checkpoint", async () => {
    const out = path.join(dir, "run");
    const r = await moecTrain([
      "models/lm_mh_moe.moe",
      ...TINY,
      "--data",
      text,
      "--steps",
      "3",
      "--batch",
      "2",
      "--seq",
      "16",
      "--eval-every",
      "2",
      "--out",
      out,
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^training LM on .*text\.txt: 1620 training bytes, 180 held out/);
    expect(r.stdout).toMatch(
      /step 1\/3 {2}loss \d+\.\d{4} {2}ce \d+\.\d{4} {2}lr 3\.00e-3 {2}experts [1-4]\/4\n/,
    );
    expect(r.stdout).toMatch(/step 3\/3 {2}loss \d+\.\d{4} .* tok\/s {2}ETA 0s\n/);
    expect(r.stdout).toMatch(/validation: cross-entropy \d+\.\d{4} nats\/byte, perplexity \d+/);
    const checkpoint = parseSafetensors(readFileSync(path.join(out, "checkpoint.safetensors")));
    expect(checkpoint.metadata).toMatchObject({ format: "moec-checkpoint/1", step: "3" });
    expect(checkpoint.tensors.get("lm.embed.weight")!.shape).toEqual([256, 8]);
    // Stacked experts are written one tensor per expert, as `moec params --json` names them.
    expect(checkpoint.tensors.get("lm.blocks.1.ffn.experts_bank.3.down.weight")!.shape).toEqual([
      4, 8,
    ]);
    const log = JSON.parse(readFileSync(path.join(out, "log.json"), "utf8"));
    expect(log.steps).toHaveLength(3);
    const curves = readFileSync(path.join(out, "curves.svg"), "utf8");
    expect(curves).toContain(">LM: text.txt, batch 2 x 16 bytes, lr 0.003, seed 0</text>");
    expect(curves.match(/<polyline /g)).toHaveLength(3); // training, validation, one MoE layer
    expect(log.steps[0].loss).toBeGreaterThan(log.steps[0].ce_loss); // the balance terms
    expect(Object.keys(log.steps[0].active_experts)).toEqual(["lm.blocks.1.ffn.router"]);
    // --eval-every 2 over 3 steps: validations after step 2 and at the end.
    expect(r.stdout).toMatch(/step 2: validation perplexity \d+\.\d{3}\n/);
    expect(log.validation.map((v: { step: number }) => v.step)).toEqual([2, 3]);
    const last = log.validation[1];
    expect(last.ce).toBe(log.validation_ce);
    expect(last.perplexity).toBeCloseTo(Math.exp(last.ce), 10);
    // MH-MoE routes each head's sub-tokens: activation per head, at most the expert count.
    const heads = last.active_experts_per_head["lm.blocks.1.ffn.router"];
    expect(heads.length).toBeGreaterThan(1);
    for (const a of heads) expect(a).toBeGreaterThanOrEqual(1);
    expect(last.active_experts["lm.blocks.1.ffn.router"]).toBeGreaterThanOrEqual(
      Math.max(...heads),
    );
  });

  it("a resumed run writes the same checkpoint as an uninterrupted one, byte for byte", async () => {
    const common = ["models/lm_smoe.moe", ...TINY, "--data", text, "--steps", "4", "--seq", "16"];
    const straight = path.join(dir, "straight");
    const half = path.join(dir, "half");
    const resumed = path.join(dir, "resumed");
    const runs = [
      await moecTrain([...common, "--batch", "2", "--out", straight]),
      await moecTrain([...common, "--batch", "2", "--stop-at", "2", "--out", half]),
      await moecTrain([
        ...common,
        "--batch",
        "2",
        "--resume",
        path.join(half, "checkpoint.safetensors"),
        "--out",
        resumed,
      ]),
    ];
    for (const r of runs) expect(r.stderr).toBe("");
    expect(runs[2]!.stdout).toMatch(/^resuming LM at step 3 on /);
    const bytes = (d: string) => readFileSync(path.join(d, "checkpoint.safetensors"));
    expect(bytes(half).equals(bytes(straight))).toBe(false);
    expect(bytes(resumed).equals(bytes(straight))).toBe(true);
    const other = await moecTrain([
      "models/lm_mh_moe.moe",
      ...TINY,
      "--data",
      text,
      "--steps",
      "4",
      "--resume",
      path.join(half, "checkpoint.safetensors"),
    ]);
    expect(other.code).toBe(EXIT.errors);
    expect(other.stderr).toMatch(
      /lacks lm\.blocks\.1\.ffn\.head\.weight: a checkpoint of another model/,
    );
  });

  const bad: [string, string[], RegExp][] = [
    ["an empty data file", ["--data", "EMPTY"], /moec: .*empty\.txt is empty\n/],
    ["a binary data file", ["--data", "BINARY"], /is not text: it holds a NUL byte at offset 2\n/],
    [
      "a NaN learning rate",
      ["--data", text, "--lr", "NaN"],
      /--lr must be a positive number, got 'NaN'/,
    ],
    [
      "a sequence over the limit",
      ["--data", text, "--seq", "5000"],
      /--seq 5000 is over the limit of 4096/,
    ],
  ];
  for (const [what, argv, message] of bad) {
    it(`refuses ${what}, writing nothing`, async () => {
      writeFileSync(path.join(dir, "empty.txt"), "");
      writeFileSync(path.join(dir, "binary.bin"), Uint8Array.of(65, 66, 0, 67));
      const out = path.join(dir, `bad-${what.replace(/\W+/g, "-")}`);
      const args = argv.map((a) =>
        a === "EMPTY"
          ? path.join(dir, "empty.txt")
          : a === "BINARY"
            ? path.join(dir, "binary.bin")
            : a,
      );
      const r = await moecTrain(["models/lm_smoe.moe", ...TINY, ...args, "--out", out]);
      expect(r.code).not.toBe(EXIT.ok);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
      expect(existsSync(out)).toBe(false);
    });
  }

  it("trains on moec's own README.md without --data", async () => {
    const r = await moecTrain(["models/lm_smoe.moe", ...TINY, "--steps", "1", "--seq", "16"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(EXIT.ok);
    const readme = readFileSync(path.resolve("README.md"));
    const held = readme.length - Math.floor(readme.length * 0.9);
    expect(r.stdout).toContain(
      `training LM on ${path.resolve("README.md")}: ${readme.length - held} training bytes, ${held} held out`,
    );
    expect(r.stdout).toMatch(/validation: cross-entropy \d+\.\d{4} nats\/byte/);
  });

  it("refuses a model that is not a language model", async () => {
    const r = await moecTrain(["models/smoe.moe", "--data", text, "--set", "dim=8"]);
    expect(r.code).toBe(EXIT.errors);
    expect(r.stderr).toMatch(/byte-level training needs logits over 256 bytes/);
  });
});
