// Normalisation layers: RMSNorm and LayerNorm over the last axis.
import type { OpFamily } from "./def.js";
import { elementwiseCost, float, last, rows, sameDim, tensor } from "./helpers.js";

export const NORM_OPS: OpFamily<"rmsnorm" | "layernorm"> = {
  rmsnorm: {
    arity: [2, 2],
    infer: ([x, w]) => {
      float(x!, "rmsnorm input");
      sameDim(last(x!.shape), w!.shape[0]!, "rmsnorm weight length must equal the input width");
      return [x!];
    },
    cost: elementwiseCost(4),
    evaluate: ([x, w], { eps }) => {
      const d = last(x!.shape);
      const y = tensor(x!.shape);
      for (let r = 0; r < rows(x!.shape); r++) {
        let ss = 0;
        for (let i = 0; i < d; i++) ss += x!.data[r * d + i]! ** 2;
        const scale = 1 / Math.sqrt(ss / d + eps);
        for (let i = 0; i < d; i++) y.data[r * d + i] = x!.data[r * d + i]! * scale * w!.data[i]!;
      }
      return [y];
    },
    grad: ({ inputs: [x, w], dOutputs: [dy], attrs: { eps }, needs, emit }) => [
      needs[0] ? emit("norm_grad_input", [x!, w!, dy!], { kind: "rms", eps })[0] : undefined,
      needs[1] ? emit("norm_grad_weight", [x!, dy!], { kind: "rms", eps })[0] : undefined,
    ],
  },

  layernorm: {
    arity: [3, 3],
    infer: ([x, w, b]) => {
      float(x!, "layernorm input");
      sameDim(last(x!.shape), w!.shape[0]!, "layernorm weight length must equal the input width");
      sameDim(last(x!.shape), b!.shape[0]!, "layernorm bias length must equal the input width");
      return [x!];
    },
    cost: elementwiseCost(7),
    evaluate: ([x, w, b], { eps }) => {
      const d = last(x!.shape);
      const y = tensor(x!.shape);
      for (let r = 0; r < rows(x!.shape); r++) {
        let mean = 0;
        for (let i = 0; i < d; i++) mean += x!.data[r * d + i]!;
        mean /= d;
        let variance = 0;
        for (let i = 0; i < d; i++) variance += (x!.data[r * d + i]! - mean) ** 2;
        const scale = 1 / Math.sqrt(variance / d + eps);
        for (let i = 0; i < d; i++) {
          y.data[r * d + i] = (x!.data[r * d + i]! - mean) * scale * w!.data[i]! + b!.data[i]!;
        }
      }
      return [y];
    },
    grad: ({ inputs: [x, w], dOutputs: [dy], attrs: { eps }, needs, emit }) => [
      needs[0] ? emit("norm_grad_input", [x!, w!, dy!], { kind: "layer", eps })[0] : undefined,
      needs[1] ? emit("norm_grad_weight", [x!, dy!], { kind: "layer", eps })[0] : undefined,
      needs[2] ? emit("sum_rows", [dy!], {})[0] : undefined,
    ],
  },
};
