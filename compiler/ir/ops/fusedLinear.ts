// Fused dense ops, made by the optimiser's passes (compiler/passes), never by lowering: a linear
// with its elementwise epilogue, and a gated pair of linears.
import { shapeEquals } from "../types.js";
import type { OpFamily } from "./def.js";
import { DENSE_OPS } from "./dense.js";
import { bytesOf, expect, numel, rows, tensor } from "./helpers.js";
import { ACTIVATION_FUNCTIONS } from "./math.js";

export const FUSED_LINEAR_OPS: OpFamily<"linear_epilogue" | "linear_glu"> = {
  linear_epilogue: {
    arity: [2, 4],
    infer: (inputs, { bias, residual }) => {
      const [x, w] = inputs;
      const [y] = DENSE_OPS.linear.infer(bias ? inputs.slice(0, 3) : [x!, w!], {});
      if (residual) {
        const r = inputs[bias ? 3 : 2];
        expect(
          r !== undefined && shapeEquals(r.shape, y!.shape),
          "residual must match the linear output",
        );
      }
      return [y!];
    },
    cost: (ins, outs, { bias, act, residual }) => {
      const base = DENSE_OPS.linear.cost(bias ? ins.slice(0, 3) : ins.slice(0, 2), outs, {});
      const extra = (act === "none" ? 0 : 8) + (residual ? 1 : 0);
      return { ...base, flops: base.flops + extra * numel(outs[0]!) };
    },
    evaluate: (inputs, { bias, act, residual }) => {
      let [y] = DENSE_OPS.linear.evaluate!(bias ? inputs.slice(0, 3) : inputs.slice(0, 2), {});
      if (act !== "none") y = tensor(y!.shape, y!.data.map(ACTIVATION_FUNCTIONS[act]));
      if (residual) {
        const r = inputs[bias ? 3 : 2]!;
        y = tensor(
          y!.shape,
          y!.data.map((v, i) => v + r.data[i]!),
        );
      }
      return [y!];
    },
  },

  linear_glu: {
    arity: [3, 3],
    infer: ([x, wg, wu]) => {
      expect(shapeEquals(wg!.shape, wu!.shape), "gate and up weights must have one shape");
      return DENSE_OPS.linear.infer([x!, wg!], {});
    },
    cost: ([x, wg], outs) => {
      const macs = 2 * rows(x!) * wg![0]! * wg![1]!;
      return {
        macs,
        flops: 2 * macs + 9 * numel(outs[0]!),
        bytes: bytesOf(x!, wg!, wg!, outs[0]!),
      };
    },
    evaluate: ([x, wg, wu], { act }) => {
      const [g] = DENSE_OPS.linear.evaluate!([x!, wg!], {});
      const [u] = DENSE_OPS.linear.evaluate!([x!, wu!], {});
      const fn = ACTIVATION_FUNCTIONS[act];
      return [
        tensor(
          g!.shape,
          g!.data.map((v, i) => fn(v) * u!.data[i]!),
        ),
      ];
    },
  },
};
