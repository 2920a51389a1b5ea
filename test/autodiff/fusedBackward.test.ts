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

const MOE_UNFUSED = ["expert_weight_grad", "expert_backprop", "expert_up_grad", "expert_down_grad"];
const MOE_FUSED = [
  "moe_grouped_weight_grad",
  "moe_grouped_backprop",
  "moe_grouped_up_grad",
  "moe_down_grad",
];

/** Dense linears: the -O2 table's tiled dX = dY·W and outer-product dW kernels. */
const DENSE = [
  { title: "Linear 12 -> 20 with bias (vector loads)", layer: "Linear(12, 20)", dim: 12, out: 20 },
  { title: "Linear 5 -> 7 (scalar loads)", layer: "Linear(5, 7, bias = false)", dim: 5, out: 7 },
  { title: "Linear 6 -> 10 (pairs)", layer: "Linear(6, 10)", dim: 6, out: 10 },
];

/** The dense backward's -O2 kernels (by label). */
const DENSE_KERNELS = ["linear_grad_input_tiled", "linear_grad_weight_sum"];

describe("-O2 backward kernels vs float64 and vs -O0", { timeout: 120_000 }, () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
  });
  afterAll(() => moec?.device.destroy());

  const cases = [
    ...LAYERS.map((l) => ({
      ...l,
      out: l.dim,
      fused: MOE_FUSED,
      unfused: MOE_UNFUSED,
      kernels: [],
    })),
    ...DENSE.map((l) => ({ ...l, fused: [], unfused: [], kernels: DENSE_KERNELS })),
  ];
  for (const { title, layer, dim, out, fused: wanted, unfused: gone, kernels } of cases) {
    it(title, async () => {
      const imports = `import "std/moe.moe"\n`;
      const forward = layerModelGraph(layer, dim, nodeHost, { imports, out });
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
      const reference = runReference(vjp, data.refInputs, data.refWeights);
      const want = reference.outputs;
      // A capacity below 1 must really drop assignments, or the dropped path goes untested.
      if (layer.includes("capacity = 0.5")) {
        const dropped = vjp.routing.flatMap((site) => [...reference.values[site.dropped]!.data]);
        expect(
          dropped.reduce((a, b) => a + b, 0),
          "dropped assignments",
        ).toBeGreaterThan(0);
      }

      const fused = compileGraph(vjp, { level: 2 });
      const ops = new Set(fused.graph.nodes.map((n) => n.op));
      for (const op of wanted) expect(ops.has(op as never), op).toBe(true);
      for (const op of gone) expect(ops.has(op as never), op).toBe(false);
      for (const k of kernels)
        expect(
          fused.plan.kernels.some((pk) => pk.name.includes(k)),
          k,
        ).toBe(true);
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
