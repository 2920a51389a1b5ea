// Elementwise ops: activations, addition, subtraction and multiplication of same-shaped tensors,
// a tensor times a number, and rows scaled by a per-row factor (a gate of shape [N, 1]).
import { formatType, shapeEquals } from "../types.js";
import type { RefTensor } from "./def.js";
import type { OpFamily } from "./def.js";
import { elementwiseCost, expect, float, tensor } from "./helpers.js";
import { ACTIVATION_FUNCTIONS } from "./math.js";

export const ELEMENTWISE_OPS: OpFamily<
  "activation" | "add" | "sub" | "mul" | "scale" | "scale_rows"
> = {
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

  sub: {
    arity: [2, 2],
    infer: ([a, b]) => {
      expect(
        shapeEquals(a!.shape, b!.shape) && a!.dtype === b!.dtype,
        `cannot subtract ${formatType(b!)} from ${formatType(a!)}: shapes must match`,
      );
      return [a!];
    },
    cost: elementwiseCost(1),
    evaluate: ([a, b]) => [zip(a!, b!, (x, y) => x - y)],
    grad: ({ dOutputs: [dy], needs, emit }) => [
      dy,
      needs[1] ? emit("scale", [dy!], { factor: -1 })[0] : undefined,
    ],
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

  /** factor · x: scalar arithmetic on a tensor (`0.5 * x`, `x / 2`, `-x`). */
  scale: {
    arity: [1, 1],
    infer: ([x]) => {
      float(x!, "scaled tensor");
      return [x!];
    },
    cost: elementwiseCost(1),
    evaluate: ([x], { factor }) => [
      tensor(
        x!.shape,
        x!.data.map((v) => factor * v),
      ),
    ],
    grad: ({ dOutputs: [dy], attrs, emit }) => [emit("scale", [dy!], attrs)[0]],
  },

  /** y[r, :] = x[r, :] · s[r, 0]: a per-row gate (Qwen2-MoE's gated shared expert). */
  scale_rows: {
    arity: [2, 2],
    infer: ([x, s]) => {
      float(x!, "scaled rows");
      expect(
        x!.shape.length === 2 &&
          s!.shape.length === 2 &&
          shapeEquals(s!.shape.slice(0, 1), x!.shape.slice(0, 1)) &&
          s!.shape[1] === 1,
        `cannot scale the rows of ${formatType(x!)} by ${formatType(s!)}: the factors must be one column, one row per row`,
      );
      return [x!];
    },
    cost: elementwiseCost(1),
    evaluate: ([x, s]) => {
      const width = x!.shape[1]!;
      return [
        tensor(
          x!.shape,
          x!.data.map((v, i) => v * s!.data[Math.floor(i / width)]!),
        ),
      ];
    },
    grad: ({ inputs: [x, s], dOutputs: [dy], needs, emit }) => [
      needs[0] ? emit("scale_rows", [dy!, s!], {})[0] : undefined,
      needs[1] ? emit("row_dot", [dy!, x!], {})[0] : undefined,
    ],
  },
};

function zip(a: RefTensor, b: RefTensor, fn: (x: number, y: number) => number): RefTensor {
  return tensor(
    a.shape,
    a.data.map((v, i) => fn(v, b.data[i]!)),
  );
}
