// BitNet b1.58 training (compiler/autodiff/straightThrough.ts, ir/ops/bitnetSte.ts). The
// straight-through estimator (STE) is not the derivative of the quantised network (that is 0
// almost everywhere), so "correct" means, in float64:
//  1. the training form computes the inference forward (same quantisers, f32 masters quantised);
//  2. one BitLinear's gradients equal a hand-written STE: x̃ = Q_a(x), W̃ = Q_w(W), y = x̃W̃ᵀ + b,
//     dx = dy·W̃, dW = dyᵀ·x̃, db = Σ dy (quantisers written out here, independently);
//  3. whole layers: the gradients equal central finite differences of the STE surrogate, the
//     network with every quantiser frozen to x ↦ x + δ, δ = Q(x) − x taken at the base point
//     (BitNet's x + (Q(x) − x).detach()): its exact derivative is the STE gradient.
import { describe, expect, it } from "vitest";
import { straightThrough } from "../../compiler/autodiff/straightThrough.js";
import { lossGraph, trainingGraph } from "../../compiler/autodiff/train.js";
import { type Graph, GraphBuilder, weightNodes } from "../../compiler/ir/graph.js";
import { runReference } from "../../compiler/ir/interpret.js";
import type { RefTensor } from "../../compiler/ir/ops.js";
import { dequantizeTernary, ternaryFromMaster } from "../../plan/bitnet.js";
import { loadGraph, relL2 } from "../runtime/helpers.js";
import { Case } from "./cases.js";
import { BITNET_LAYERS, QUANT_XMOE_LMS, layerLeaves, lmLeaves } from "./layerCases.js";
import {
  type Leaves,
  TINY_LM,
  finiteDifferenceCheck,
  projectedOutputs,
  randomCotangents,
  randomRef,
  vjpGraph,
} from "./gradcheck.js";

/** Round half to even, written out again (not plan/bitnet.ts's). */
const roundEven = (v: number) => {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

/** Per-row absmax int8 values, dequantised. */
function handQuantRows(x: RefTensor): Float64Array {
  const d = x.shape[x.shape.length - 1]!;
  const out = new Float64Array(x.data.length);
  for (let r = 0; r < x.data.length / d; r++) {
    const row = x.data.subarray(r * d, (r + 1) * d);
    const a = Math.max(1e-5, ...Array.from(row, Math.abs));
    row.forEach((v, c) => {
      out[r * d + c] = (Math.max(-127, Math.min(127, roundEven((v * 127) / a))) * a) / 127;
    });
  }
  return out;
}

/** γ·RoundClip(W/γ, −1, 1), γ = max(mean|W|, 1e-5) rounded to f32 (one matrix). */
function handTernary(w: RefTensor): Float64Array {
  const gamma = Math.fround(
    Math.max(w.data.reduce((s, v) => s + Math.abs(v), 0) / w.data.length, 1e-5),
  );
  return w.data.map((v) => Math.max(-1, Math.min(1, roundEven(v / gamma))) * gamma);
}

/** The graph with every STE op replaced by x ↦ x + δ, δ an input fixed at the leaves' values. */
function frozenSurrogate(
  ste: Graph,
  leaves: Leaves,
): { graph: Graph; deltas: Map<string, RefTensor> } {
  const { values } = runReference(ste, leaves.inputs, leaves.weights);
  const b = new GraphBuilder(`${ste.name}_frozen`);
  const map = new Map<number, number>();
  const deltas = new Map<string, RefTensor>();
  for (const node of ste.nodes) {
    const ins = node.inputs.map((v) => map.get(v)!);
    let outs: number[];
    if (node.op === "act_quant_ste" || node.op === "weight_quant_ste") {
      const name = `delta.${node.id}`;
      const [x, q] = [values[node.inputs[0]!]!, values[node.outputs[0]!]!];
      deltas.set(name, { shape: x.shape, data: q.data.map((v, i) => v - x.data[i]!) });
      const type = ste.values[node.outputs[0]!]!.type;
      const [delta] = b.add("input", [], { name }, "", node.span, [type]);
      b.inputs.push({ name, value: delta! });
      outs = b.add("add", [ins[0]!, delta!], {}, node.scope, node.span);
    } else {
      const types = node.outputs.map((o) => ste.values[o]!.type);
      outs = b.add(node.op, ins, node.attrs as never, node.scope, node.span, types);
    }
    outs.forEach((v, k) => map.set(node.outputs[k]!, v));
  }
  b.inputs.push(...ste.inputs.map((i) => ({ name: i.name, value: map.get(i.value)! })));
  b.outputs.push(...ste.outputs.map((o) => ({ name: o.name, value: map.get(o.value)! })));
  return { graph: b.build(), deltas };
}

describe("BitNet b1.58 training: the straight-through estimator (float64)", () => {
  for (const { file, sets } of BITNET_LAYERS) {
    it(`${file} ${sets.slice(3).join(" ")}: the training form computes the inference forward`, () => {
      const inference = loadGraph(file, sets);
      const leaves = layerLeaves(inference);
      const ternary = new Map(
        weightNodes(inference).map((w) => {
          const type = inference.values[w.outputs[0]!]!.type;
          const shape = type.shape as number[];
          const master = leaves.weights.get(w.attrs.name)!;
          const data =
            type.dtype === "t2"
              ? dequantizeTernary(ternaryFromMaster(w.attrs.name, master.data, shape), shape)
              : master.data;
          return [w.attrs.name, { shape, data }];
        }),
      );
      const want = runReference(inference, leaves.inputs, ternary).outputs.get("y")!;
      const got = runReference(straightThrough(inference), leaves.inputs, leaves.weights);
      expect(relL2(got.outputs.get("y")!.data, want.data)).toBeLessThan(1e-12);
    });
  }

  it("a BitLinear's gradients equal a hand-written STE", () => {
    const c = new Case();
    const x = c.input("x", [5, 12]);
    const [w] = c.b.add(
      "weight",
      [],
      { name: "w", init: "linear", fanIn: 12 },
      "w",
      c.b.nodes[0]!.span,
      [{ dtype: "t2", shape: [7, 12] }],
    );
    c.leaves.weights.set("w", randomRef([7, 12], 11));
    const bias = c.weight("b", [7]);
    const [q, s] = c.op("act_quant", [x], {});
    c.output(c.op("bitlinear", [q!, s!, w!, bias], {})[0]!);
    const ste = straightThrough(c.graph);
    const vjp = vjpGraph(ste);
    const dy = randomRef([5, 7], 13);
    const got = runReference(
      vjp,
      new Map([...c.leaves.inputs, ["d.y0", dy]]),
      c.leaves.weights,
    ).outputs;
    const xq = handQuantRows(c.leaves.inputs.get("x")!);
    const wq = handTernary(c.leaves.weights.get("w")!);
    const [dx, dw, db] = [new Float64Array(60), new Float64Array(84), new Float64Array(7)];
    for (let r = 0; r < 5; r++)
      for (let o = 0; o < 7; o++) {
        const g = dy.data[r * 7 + o]!;
        db[o] += g;
        for (let i = 0; i < 12; i++) {
          dx[r * 12 + i] += g * wq[o * 12 + i]!;
          dw[o * 12 + i] += g * xq[r * 12 + i]!;
        }
      }
    expect(relL2(got.get("grad.x")!.data, dx)).toBeLessThan(1e-14);
    expect(relL2(got.get("grad.w")!.data, dw)).toBeLessThan(1e-14);
    expect(relL2(got.get("grad.b")!.data, db)).toBeLessThan(1e-14);
    // The quantisers really changed the values (else this would test a plain linear layer).
    expect(relL2(wq, c.leaves.weights.get("w")!.data)).toBeGreaterThan(0.1);
    expect(relL2(xq, c.leaves.inputs.get("x")!.data)).toBeGreaterThan(1e-3);
  });

  for (const { file, sets } of BITNET_LAYERS) {
    it(`${file} ${sets.slice(3).join(" ")}: gradients = finite differences of the frozen STE surrogate`, () => {
      const ste = straightThrough(loadGraph(file, sets));
      const leaves = layerLeaves(ste);
      const cotangents = randomCotangents(ste, leaves, 1);
      const analytic = runReference(
        vjpGraph(ste),
        new Map([...leaves.inputs, ...cotangents]),
        leaves.weights,
      ).outputs;
      const { graph, deltas } = frozenSurrogate(ste, leaves);
      expect(deltas.size).toBeGreaterThanOrEqual(4);
      const checks = finiteDifferenceCheck(leaves, analytic, (l) =>
        projectedOutputs(
          graph,
          { inputs: new Map([...l.inputs, ...deltas]), weights: l.weights },
          cotangents,
        ),
      );
      expect(checks.length).toBe(1 + leaves.weights.size);
      for (const check of checks) {
        expect(check.gradNorm, `gradient of ${check.name} is zero`).toBeGreaterThan(0);
        expect(check.relError, `${check.name} vs finite differences`).toBeLessThan(1e-6);
      }
    });
  }

  for (const { file, sets } of QUANT_XMOE_LMS.filter((m) => m.sets.includes("quant=b1.58"))) {
    it(`${file} ${sets.slice(TINY_LM.length).join(" ")}: training-graph gradients = finite differences of the frozen loss`, () => {
      const forward = loadGraph(file, sets);
      const leaves = lmLeaves(forward);
      const analytic = runReference(trainingGraph(forward), leaves.inputs, leaves.weights).outputs;
      const { graph, deltas } = frozenSurrogate(lossGraph(forward), leaves);
      const loss = (l: Leaves) =>
        runReference(graph, new Map([...leaves.inputs, ...deltas]), l.weights).outputs.get("loss")!
          .data[0]!;
      const checks = finiteDifferenceCheck(
        { inputs: new Map(), weights: leaves.weights },
        analytic,
        loss,
        // Roundoff dominates at smaller steps here (error ∝ 1/step); truncation is ∝ step².
        { perLeaf: 8, step: 1e-5 },
      );
      expect(checks.length).toBe(leaves.weights.size);
      for (const check of checks) {
        expect(check.gradNorm, `gradient of ${check.name} is zero`).toBeGreaterThan(0);
        expect(check.relError, `${check.name} vs finite differences`).toBeLessThan(1e-5);
      }
    });
  }
});
