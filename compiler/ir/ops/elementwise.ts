// Elementwise ops: activations, addition and multiplication of same-shaped tensors.
import { formatType, shapeEquals } from "../types.js";
import type { OpFamily } from "./def.js";
import { elementwiseCost, expect, float, tensor } from "./helpers.js";
import { ACTIVATION_FUNCTIONS } from "./math.js";

export const ELEMENTWISE_OPS: OpFamily<"activation" | "add" | "mul"> = {
  activation: {
    arity: [1, 1],
    infer: ([x]) => {
      float(x!, "activation input");
      return [x!];
    },
    cost: elementwiseCost(8),
    evaluate: ([x], { fn }) => [tensor(x!.shape, x!.data.map(ACTIVATION_FUNCTIONS[fn]))],
    grad: ({ inputs: [x], dOutputs: [dy], attrs: { fn }, emit }) => [
      emit("activation_grad", [x!, dy!], { fn })[0],
    ],
  },

  add: {
    arity: [2, 2],
    infer: ([a, b]) => {
      expect(
        shapeEquals(a!.shape, b!.shape) && a!.dtype === b!.dtype,
        `cannot add ${formatType(a!)} and ${formatType(b!)}: shapes must match`,
      );
      return [a!];
    },
    cost: elementwiseCost(1),
    evaluate: ([a, b]) => [
      tensor(
        a!.shape,
        a!.data.map((v, i) => v + b!.data[i]!),
      ),
    ],
    grad: ({ dOutputs: [dy] }) => [dy, dy],
  },

  mul: {
    arity: [2, 2],
    infer: ([a, b]) => {
      expect(
        shapeEquals(a!.shape, b!.shape) && a!.dtype === b!.dtype,
        `cannot multiply ${formatType(a!)} and ${formatType(b!)}: shapes must match`,
      );
      return [a!];
    },
    cost: elementwiseCost(1),
    evaluate: ([a, b]) => [
      tensor(
        a!.shape,
        a!.data.map((v, i) => v * b!.data[i]!),
      ),
    ],
    grad: ({ inputs: [a, b], dOutputs: [dy], needs, emit }) => [
      needs[0] ? emit("mul", [dy!, b!], {})[0] : undefined,
      needs[1] ? emit("mul", [dy!, a!], {})[0] : undefined,
    ],
  },
};
