// DecoderLM's choice of MoE blocks (models/std/transformer.moe): `moe_every` and `first_dense`,
// read back from the weights `moec params --json` lists (a router in a block = an MoE block).
import { describe, expect, it } from "vitest";
import { runMoec } from "../helpers/golden.js";

const SMALL = ["vocab=64", "dim=32", "layers=6", "experts=4", "moe_ffn=64"];

async function moeBlocks(...sets: string[]): Promise<number[]> {
  const argv = ["params", "models/lm_smoe.moe", "--json"];
  for (const s of [...SMALL, ...sets]) argv.push("--set", s);
  const r = await runMoec(argv);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const weights = JSON.parse(r.stdout).weights as { name: string }[];
  const blocks = weights
    .map((w) => /^lm\.blocks\.(\d+)\.ffn\.router\.weight$/.exec(w.name)?.[1])
    .filter((b): b is string => b !== undefined)
    .map(Number);
  return [...new Set(blocks)].sort((a, b) => a - b);
}

describe("DecoderLM: which blocks are MoE", () => {
  it("by default every second block (1, 3, 5), as before", async () => {
    expect(await moeBlocks()).toEqual([1, 3, 5]);
  });
  it("moe_every=1: every block", async () => {
    expect(await moeBlocks("moe_every=1")).toEqual([0, 1, 2, 3, 4, 5]);
  });
  it("first_dense=1 moe_every=1: all but the first (DeepSeekMoE's layout)", async () => {
    expect(await moeBlocks("first_dense=1", "moe_every=1")).toEqual([1, 2, 3, 4, 5]);
  });
  it("moe_every=3: blocks 2 and 5", async () => {
    expect(await moeBlocks("moe_every=3")).toEqual([2, 5]);
  });
  it("moe_every=0 is an error at the use site, with the requirement as a note", async () => {
    const r = await runMoec(["params", "models/lm_smoe.moe", "--set", "moe_every=0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lm_smoe\.moe:\d+:\d+: error: moe_every must be at least 1/);
    expect(r.stderr).toMatch(/std\/transformer\.moe:\d+:\d+: note: required here/);
  });
});
