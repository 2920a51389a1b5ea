// Whole shipped models at tiny sizes: the training graph's gradients (cross-entropy plus the
// routers' load-balancing terms), run by the float64 reference interpreter, against central
// finite differences of the loss; the layer models' vector-Jacobian products the same way.
import { describe, expect, it } from "vitest";
import { lossGraph, trainingGraph } from "../../compiler/autodiff/train.js";
import { runReference } from "../../compiler/ir/interpret.js";
import { printGraph } from "../../compiler/ir/print.js";
import { verifyGraph } from "../../compiler/ir/verify.js";
import { loadGraph } from "../runtime/helpers.js";
import {
  type LeafCheck,
  checkGraphGradients,
  finiteDifferenceCheck,
  randomIds,
  randomRef,
  randomWeights,
  TINY_LM,
} from "./gradcheck.js";

const LAYER = ["dim=8", "experts=4", "ffn=8"];
const TOKENS = 6;

function expectClose(checks: readonly LeafCheck[], what: string): void {
  expect(checks.length).toBeGreaterThan(0);
  for (const c of checks) {
    expect(c.gradNorm, `${what}: gradient of ${c.name} is zero`).toBeGreaterThan(0);
    expect(c.relError, `${what}: ${c.name} vs finite differences`).toBeLessThan(1e-5);
  }
}

function lmLeaves(forward: ReturnType<typeof loadGraph>) {
  return {
    inputs: new Map([
      ["ids", randomIds(TOKENS, 16, 1)],
      ["targets", randomIds(TOKENS, 16, 2)],
    ]),
    weights: randomWeights(forward, 3, 0.5),
  };
}

describe("language models: training-graph gradients match finite differences", () => {
  const cases = [
    { file: "models/lm_smoe.moe", sets: TINY_LM },
    { file: "models/lm_smoe.moe", sets: [...TINY_LM, "top_k=2", "capacity=1.0"] },
    { file: "models/lm_fine_grained.moe", sets: TINY_LM },
    { file: "models/lm_mh_moe.moe", sets: TINY_LM },
  ];
  for (const { file, sets } of cases) {
    it(`${file} ${sets.slice(TINY_LM.length).join(" ")}`, () => {
      const forward = loadGraph(file, sets);
      expect(forward.routing.length).toBeGreaterThan(0);
      const train = trainingGraph(forward);
      expect(verifyGraph(train)).toEqual([]);
      const withLoss = lossGraph(forward);
      const leaves = lmLeaves(forward);
      const { outputs } = runReference(train, leaves.inputs, leaves.weights);
      const loss = (weights: typeof leaves.weights) =>
        runReference(withLoss, leaves.inputs, weights).outputs.get("loss")!.data[0]!;
      expect(outputs.get("loss")!.data[0]).toBe(loss(leaves.weights));
      // Every weight: 8 sampled elements against central differences of the loss.
      const checks = finiteDifferenceCheck(
        { inputs: new Map(), weights: leaves.weights },
        outputs,
        (l) => loss(l.weights),
        { perLeaf: 8 },
      );
      expect(checks.length).toBe(leaves.weights.size);
      expectClose(checks, file);
    });
  }

  it("the balance term enters the loss with coefficient 1e-2", () => {
    const forward = loadGraph("models/lm_smoe.moe", TINY_LM);
    const leaves = lmLeaves(forward);
    const run = (coef: number) =>
      runReference(lossGraph(forward, { balanceCoef: coef }), leaves.inputs, leaves.weights)
        .outputs;
    const withTerm = run(1e-2);
    const ce = withTerm.get("ce_loss")!.data[0]!;
    expect(run(0).get("loss")!.data[0]).toBe(ce);
    // E · Σ_e f_e P_e ≥ 1 for one router, with equality only for uniform load and probabilities.
    expect(withTerm.get("loss")!.data[0]! - ce).toBeGreaterThanOrEqual(1e-2 * (1 - 1e-12));
    expect(printGraph(lossGraph(forward))).toContain("balance_loss{experts=4, coef=0.01}");
  });
});

describe("layer models: vector-Jacobian products match finite differences", () => {
  const cases = [
    { file: "models/smoe.moe", sets: LAYER },
    { file: "models/fine_grained.moe", sets: [...LAYER, "shared=1"] },
    { file: "models/mh_moe.moe", sets: LAYER },
    { file: "models/mh_moe_parity.moe", sets: ["dim=8", "experts=6", "ffn=8"] },
  ];
  for (const { file, sets } of cases) {
    it(file, () => {
      const graph = loadGraph(file, sets);
      const leaves = {
        inputs: new Map([["x", randomRef([TOKENS, 8], 5)]]),
        weights: randomWeights(graph, 4, 0.5),
      };
      expectClose(checkGraphGradients(graph, leaves), file);
    });
  }
});
