// `moec eval`: a checkpoint of `moec train` evaluates to the perplexity training reported on the
// same held-out sequences, with expert activation per layer and head; a checkpoint of another
// model, a missing data file or a file that is no checkpoint give a clear error.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "../../cli/common.js";
import { runMoec } from "../helpers/golden.js";

const dir = mkdtempSync(path.join(tmpdir(), "moec-eval-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = path.join(dir, "text.txt");
writeFileSync(text, "the quick brown fox jumps over the lazy dog. ".repeat(40));
const TINY = ["dim=8", "layers=2", "attn_heads=2", "experts=4", "moe_ffn=8"].flatMap((s) => [
  "--set",
  s,
]);
const run = path.join(dir, "run");
const checkpoint = path.join(run, "checkpoint.safetensors");

describe("moec eval", { timeout: 120_000 }, () => {
  beforeAll(async () => {
    const r = await runMoec([
      "train",
      "models/lm_mh_moe.moe",
      ...TINY,
      "--data",
      text,
      "--steps",
      "2",
      "--batch",
      "2",
      "--seq",
      "16",
      "--out",
      run,
    ]);
    expect(r.stderr).toBe("");
  }, 120_000);

  it("prints the perplexity training reported, and activation per layer and head", async () => {
    const r = await runMoec([
      "eval",
      "models/lm_mh_moe.moe",
      ...TINY,
      "--weights",
      checkpoint,
      "--data",
      text,
      "--seq",
      "16",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(EXIT.ok);
    const log = JSON.parse(readFileSync(path.join(run, "log.json"), "utf8"));
    expect(r.stdout).toMatch(/^LM at step 2 on .*text\.txt \(8 held-out sequences of 16 bytes;/);
    const ppl = Number(/perplexity (\d+\.\d+)/.exec(r.stdout)![1]);
    expect(ppl).toBeCloseTo(Math.exp(log.validation_ce), 2);
    const site =
      /lm\.blocks\.1\.ffn\.router: experts (\d)\/4 active \(per head ((?:\d\/4 ?)+)\); assignments per expert ((?:\d+\.\d% ?)+)\n/.exec(
        r.stdout,
      );
    expect(site).not.toBeNull();
    const shares = site![3]!
      .trim()
      .split(" ")
      .map((s) => Number(s.slice(0, -1)));
    expect(shares).toHaveLength(4);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
    const heads = site![2]!
      .trim()
      .split(" ")
      .map((h) => Number(h.split("/")[0]));
    expect(heads.length).toBeGreaterThan(1);
    expect(Number(site![1])).toBe(shares.filter((s) => s > 0).length);
  });

  const bad: [string, string[], RegExp][] = [
    [
      "a checkpoint of another model",
      ["models/lm_smoe.moe", ...TINY, "--weights", checkpoint, "--data", text],
      /moec: .*checkpoint\.safetensors: lm\.blocks\.1\.ffn\.router\.weight is \[4, 4\], the model needs \[4, 8\] \(a checkpoint of another model/,
    ],
    [
      "a missing data file",
      ["models/lm_mh_moe.moe", ...TINY, "--weights", checkpoint, "--data", "no/such.txt"],
      /moec: .*no\/such\.txt/,
    ],
    [
      "a file that is not a checkpoint",
      ["models/lm_mh_moe.moe", ...TINY, "--weights", text, "--data", text],
      /moec: .*text\.txt/,
    ],
    ["no --weights", ["models/lm_mh_moe.moe", "--data", text], /eval needs --weights FILE/],
  ];
  for (const [what, argv, message] of bad) {
    it(`refuses ${what}`, async () => {
      const r = await runMoec(["eval", ...argv]);
      expect(r.code).not.toBe(EXIT.ok);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    });
  }
});
