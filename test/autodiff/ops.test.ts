// Every differentiable op's gradient rule, run by the float64 reference interpreter, against
// central finite differences on random non-zero data (test/autodiff/gradcheck.ts).
import { describe, expect, it } from "vitest";
import { runReference } from "../../compiler/ir/interpret.js";
import { topKIndices } from "../../compiler/ir/ops.js";
import { GRAD_CASES } from "./cases.js";
import { EXTRA_GRAD_CASES } from "./extraCases.js";
import { checkGraphGradients } from "./gradcheck.js";

describe("each op's gradient rule matches central finite differences (float64)", () => {
  for (const { title, build } of [...GRAD_CASES, ...EXTRA_GRAD_CASES]) {
    it(title, () => {
      const c = build();
      const checks = checkGraphGradients(c.graph, c.leaves);
      expect(checks.length).toBeGreaterThan(0);
      for (const check of checks) {
        expect(check.gradNorm, `gradient of ${check.name} is zero`).toBeGreaterThan(0);
        expect(check.relError, `${check.name}: rel. L2 error vs finite differences`).toBeLessThan(
          1e-6,
        );
      }
    });
  }

  it("the capacity case really drops assignments", () => {
    const c = GRAD_CASES.find((g) => g.title.startsWith("capacity"))!.build();
    const kept = runReference(c.graph, c.leaves.inputs, c.leaves.weights).outputs.get("y1")!;
    expect(kept.data.filter((e) => e < 0).length).toBeGreaterThan(0);
  });

  it("the grouped-router cases' groups and selection bias change the chosen experts", () => {
    const chosen = (title: string) => {
      const c = EXTRA_GRAD_CASES.find((g) => g.title === title)!.build();
      const run = runReference(c.graph, c.leaves.inputs, c.leaves.weights).outputs;
      return { expert: run.get("y2")!.data, logits: c.leaves.inputs.get("logits")!.data };
    };
    const plain = chosen("route_grouped (renorm): gates and probabilities");
    const biased = chosen("route_grouped (renorm, selection bias): gates and probabilities");
    expect(Array.from(biased.expert)).not.toEqual(Array.from(plain.expert));
    // Without groups, each row would take its 3 largest logits (sigmoid is increasing).
    const ungrouped = Array.from({ length: 6 }, (_, r) =>
      topKIndices(Array.from(plain.logits.subarray(r * 8, r * 8 + 8)), 3),
    ).flat();
    expect(Array.from(plain.expert)).not.toEqual(ungrouped);
  });
});
