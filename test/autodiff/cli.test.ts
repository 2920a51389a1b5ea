// `moec graph --stage grad`: the training graph of a language model, verified and printed; a
// model that is not a language model gets a clear error, not a stack trace.
import { describe, expect, it } from "vitest";
import { EXIT } from "../../cli/main.js";
import { runMoec } from "../helpers/golden.js";
import { TINY_LM } from "./gradcheck.js";

const sets = TINY_LM.flatMap((s) => ["--set", s]);

describe("moec graph --stage grad", () => {
  it("prints the loss and a gradient output for every weight of a language model", async () => {
    const r = await runMoec(["graph", "models/lm_mh_moe.moe", "--stage", "grad", ...sets]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^graph LM\(ids = %\d+: i32\[T\], targets = %\d+: i32\[T\]\)/);
    expect(r.stdout).toMatch(/= cross_entropy\(/);
    expect(r.stdout).toMatch(/= balance_loss\{experts=4, coef=0.01\}/);
    expect(r.stdout).toMatch(/= route_grad\{topK=2, gating="softmax"\}/);
    expect(r.stdout).toContain("grad.lm.blocks.1.ffn.experts_bank.{e}.down.weight = %");
    expect(r.stdout).toContain("grad.lm.embed.weight = %");
  });

  it("grad:fuse-moe prints the training graph after MoE fusion: the backward runs over the permutation", async () => {
    const r = await runMoec(["graph", "models/lm_smoe.moe", "--stage", "grad:fuse-moe", ...sets]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(EXIT.ok);
    for (const op of [
      "moe_permute",
      "moe_grouped_weight_grad",
      "moe_grouped_backprop",
      "moe_down_grad",
    ])
      expect(r.stdout).toMatch(new RegExp(`= ${op}\\b`));
    expect(r.stdout).not.toMatch(/= expert_weight_grad\b/);
    expect(r.stdout).toContain("grad.lm.embed.weight = %");
  });

  it("refuses a model that is not a language model, naming what it takes", async () => {
    const r = await runMoec(["graph", "models/smoe.moe", "--stage", "grad"]);
    expect(r.code).toBe(EXIT.errors);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "moec graph: models/smoe.moe: training needs a language model: token ids i32[T] in, logits f32[T, vocab] out; SMoELayer takes (x: f32[T, 768])\n",
    );
  });
});
