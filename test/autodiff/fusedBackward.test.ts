// The -O2 backward of the expert bank (ops/fusedMoeGrad.ts: grouped weight gradients per expert
// segment, grouped dX through the permutation, the grouped up-projection gradient, the down
// gradient without its output recomputed) on Dawn: the VJP of whole MoE layers against the
// float64 reference's own backward and against the unfused -O0 kernels on the same device, with
// outputs poisoned first; two runs give bitwise-identical gradients. Widths that are multiples
// of 4, of 2 and of neither take the kernels' vector, pair and scalar paths.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileGraph } from "../../compiler/compile.js";
import { runReference } from "../../compiler/ir/interpret.js";
import { layerModelGraph } from "../../compiler/layerModel.js";
import { nodeHost } from "../../compiler/node/host.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { Session } from "../../runtime/session.js";
import { bitsOf, relL2 } from "../runtime/helpers.js";
import { randomCotangents, randomRef, randomWeights, toDevice, vjpGraph } from "./gradcheck.js";

const LAYERS = [
  {
    title: "SMoE: gated SiLU experts, top-2, capacity 0.5 (drops)",
    layer: "SMoE(12, experts = 4, top_k = 2, ffn = 20, capacity = 0.5)",
    dim: 12,
  },
  {
    title: "SMoE: biased GELU experts of widths 6 and 10, top-2, capacity 1.0",
    layer: "SMoE(6, experts = 3, top_k = 2, ffn = 10, gated = false, act = gelu, capacity = 1.0)",
    dim: 6,
  },
  {
    title: "SMoE: odd widths 5 and 7, renormalised gates, dropless",
    layer: 'SMoE(5, experts = 4, top_k = 2, ffn = 7, gated = false, gating = "renorm")',
    dim: 5,
  },
  {
    title: "MH-MoE: 2 heads, top-2, capacity 0.5",
    layer: "MHMoE(16, heads = 2, experts = 4, top_k = 2, ffn = 12, capacity = 0.5)",
    dim: 16,
  },
];

const UNFUSED = ["expert_weight_grad", "expert_backprop", "expert_up_grad", "expert_down_grad"];
const FUSED = [
  "moe_grouped_weight_grad",
  "moe_grouped_backprop",
  "moe_grouped_up_grad",
  "moe_down_grad",
];

describe("fused MoE backward (-O2) vs float64 and vs -O0", { timeout: 120_000 }, () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
  });
  afterAll(() => moec?.device.destroy());

  for (const { title, layer, dim } of LAYERS) {
    it(title, async () => {
      const forward = layerModelGraph(layer, dim, nodeHost, { imports: `import "std/moe.moe"\n` });
      const vjp = vjpGraph(forward);
      const tokens = 9; // not a multiple of any tile: partial tiles and segments
      const inputs = new Map(
        forward.inputs.map((i) => [i.name, randomRef([tokens, dim], 11)] as const),
      );
      const leaves = { inputs, weights: randomWeights(forward, 5, 0.5) };
      const all = {
        inputs: new Map([...inputs, ...randomCotangents(forward, leaves, 7)]),
        weights: leaves.weights,
      };
      const data = toDevice(vjp, all);
      const want = runReference(vjp, data.refInputs, data.refWeights).outputs;

      const fused = compileGraph(vjp, { level: 2 });
      const ops = new Set(fused.graph.nodes.map((n) => n.op));
      for (const op of FUSED) expect(ops.has(op as never), op).toBe(true);
      for (const op of UNFUSED) expect(ops.has(op as never), op).toBe(false);
      const unfused = compileGraph(vjp, { level: 0 });

      const run = async (plan: typeof fused.plan) => {
        const session = await Session.create(moec.device, plan, data.weights);
        const first = await session.run(data.inputs, { poison: true });
        const second = await session.run(data.inputs, { poison: true });
        session.destroy();
        return [first.outputs, second.outputs] as const;
      };
      const [got, again] = await run(fused.plan);
      const [baseline] = await run(unfused.plan);
      expect(got.size).toBe(want.size);
      for (const [name, ref] of want) {
        const g = got.get(name)!;
        expect(g.data.every(Number.isFinite), `${name} unwritten?`).toBe(true);
        expect(relL2(g.data, ref.data), `${name} vs float64`).toBeLessThan(1e-5);
        expect(relL2(g.data, baseline.get(name)!.data), `${name} vs -O0`).toBeLessThan(1e-5);
        expect(bitsOf(again.get(name)!), `${name} reproducible`).toEqual(bitsOf(g));
      }
      expect(moec.errors).toEqual([]);
    });
  }
});
