// X-MoE's cosine router (ir/ops/cosineGrad.ts) in float64: the gradient rule against central
// finite differences with the norm and temperature clamps active, and whole X-MoE layers and
// language models through their VJP and training graphs. (Unclamped op-level cases: cases.ts.)
import { describe, expect, it } from "vitest";
import { lossGraph, trainingGraph } from "../../compiler/autodiff/train.js";
import { COSINE_EPS } from "../../compiler/ir/ops.js";
import { runReference } from "../../compiler/ir/interpret.js";
import { loadGraph, relL2 } from "../runtime/helpers.js";
import {
  type LeafCheck,
  checkGraphGradients,
  finiteDifferenceCheck,
  projectedOutputs,
  randomCotangents,
  vjpGraph,
} from "./gradcheck.js";
import { QUANT_XMOE_LMS, XMOE_LAYERS, clampedCosine, layerLeaves, lmLeaves } from "./layerCases.js";

function expectClose(checks: readonly LeafCheck[], bound: number): void {
  expect(checks.length).toBeGreaterThan(0);
  for (const c of checks) {
    expect(c.gradNorm, `gradient of ${c.name} is zero`).toBeGreaterThan(0);
    expect(c.relError, `${c.name} vs finite differences`).toBeLessThan(bound);
  }
}

describe("X-MoE cosine logits: the exact gradient (float64)", () => {
  it("clamped: a row and an embedding shorter than eps, tau below tau_min", () => {
    const c = clampedCosine();
    const h = c.leaves.inputs.get("h")!.data as Float64Array;
    const emb = c.leaves.weights.get("emb")!.data as Float64Array;
    const cotangents = randomCotangents(c.graph, c.leaves, 3);
    const got = runReference(
      vjpGraph(c.graph),
      new Map([...c.leaves.inputs, ...cotangents]),
      c.leaves.weights,
    ).outputs;
    expect(got.get("grad.tau")!.data[0]).toBe(0);
    // Each row of h and emb on its own (a clamped row's gradient is ~1e4 times the others').
    const f = () => projectedOutputs(c.graph, c.leaves, cotangents);
    for (const [name, data] of [
      ["h", h],
      ["emb", emb],
    ] as const) {
      const grad = got.get(`grad.${name}`)!.data;
      for (let row = 0; row < data.length / 3; row++) {
        const [fd, rule] = [[] as number[], Array.from(grad.slice(3 * row, 3 * row + 3))];
        for (let k = 3 * row; k < 3 * row + 3; k++) {
          const x = data[k]!;
          data[k] = x + 1e-6;
          const plus = f();
          data[k] = x - 1e-6;
          const minus = f();
          data[k] = x;
          fd.push((plus - minus) / 2e-6);
        }
        expect(relL2(rule, fd), `${name} row ${row}`).toBeLessThan(1e-6);
      }
    }
    expect(Math.hypot(...h.slice(3, 6))).toBeLessThan(COSINE_EPS / 10);
  });

  for (const { file, sets } of XMOE_LAYERS) {
    it(`${file} ${sets.slice(3).join(" ")}: VJP matches finite differences`, () => {
      const graph = loadGraph(file, sets);
      expect(graph.nodes.some((n) => n.op === "cosine_logits")).toBe(true);
      const checks = checkGraphGradients(graph, layerLeaves(graph));
      expect(checks.map((c) => c.name)).toContain("moe.router.temperature");
      expectClose(checks, 1e-5);
    });
  }

  for (const { file, sets } of QUANT_XMOE_LMS.filter((m) => !m.sets.includes("quant=b1.58"))) {
    it(`${file} ${sets.at(-1)}: training-graph gradients match finite differences of the loss`, () => {
      const forward = loadGraph(file, sets);
      const leaves = lmLeaves(forward);
      const { outputs } = runReference(trainingGraph(forward), leaves.inputs, leaves.weights);
      const withLoss = lossGraph(forward);
      const checks = finiteDifferenceCheck(
        { inputs: new Map(), weights: leaves.weights },
        outputs,
        (l) => runReference(withLoss, leaves.inputs, l.weights).outputs.get("loss")!.data[0]!,
        { perLeaf: 8 },
      );
      expect(checks.length).toBe(leaves.weights.size);
      expectClose(checks, 1e-5);
    });
  }
});
