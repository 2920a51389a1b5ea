// Expert FFNs over the routed assignments, and the combine that sums each row's expert outputs.
import { formatDim, formatType, shapeEquals } from "../types.js";
import type { Activation, OpFamily, RefTensor } from "./def.js";
import { bytesOf, elementwiseCost, expect, numel, rank, sameDim, tensor } from "./helpers.js";
import { ACTIVATION_FUNCTIONS } from "./math.js";

export const EXPERT_OPS: OpFamily<"expert_up" | "expert_down" | "combine"> = {
  expert_up: {
    arity: [3, 4],
    infer: ([x, expert, w1, w2], { gated, bias }) => {
      rank(x!, 2, "expert input");
      rank(expert!, 2, "expert choices");
      rank(w1!, 3, "stacked expert weight");
      sameDim(
        x!.shape[1]!,
        w1!.shape[2]!,
        `experts expect inputs of width ${formatDim(w1!.shape[2]!)}, got ${formatType(x!)}`,
      );
      if (gated)
        expect(
          w2 !== undefined && shapeEquals(w1!.shape, w2.shape),
          "gated experts need gate and up weights of one shape",
        );
      if (bias)
        expect(w2 !== undefined && w2.shape.length === 2, "expert bias must be [experts, hidden]");
      return [{ dtype: x!.dtype, shape: [x!.shape[0]!, expert!.shape[1]!, w1!.shape[1]!] }];
    },
    cost: ([x, e, w1], [h], { gated }) => {
      const macs = numel(e!) * w1![1]! * w1![2]! * (gated ? 2 : 1);
      return {
        macs,
        flops: 2 * macs + 8 * numel(h!),
        bytes: bytesOf(x!, h!) + bytesOf(e!) + (4 * macs) / numel(e!),
      };
    },
    evaluate: ([x, expert, w1, extra], { act, gated, bias }) => [
      expertUpReference(x!, expert!, w1!, gated ? extra : undefined, bias ? extra : undefined, act),
    ],
  },

  expert_down: {
    arity: [4, 5],
    infer: ([h, expert, gate, w2, b2]) => {
      rank(h!, 3, "expert hidden");
      rank(w2!, 3, "stacked expert output weight");
      sameDim(h!.shape[2]!, w2!.shape[2]!, "expert output weight must take the hidden width");
      expect(
        shapeEquals(expert!.shape, gate!.shape),
        "expert choices and gates must have one shape",
      );
      if (b2) rank(b2, 2, "expert output bias");
      return [{ dtype: h!.dtype, shape: [h!.shape[0]!, h!.shape[1]!, w2!.shape[1]!] }];
    },
    cost: ([h, e, , w2], [y]) => {
      const macs = numel(e!) * w2![1]! * w2![2]!;
      return {
        macs,
        flops: 2 * macs + 2 * numel(y!),
        bytes: bytesOf(h!, y!) + (4 * macs) / numel(e!),
      };
    },
    evaluate: ([h, expert, gate, w2, b2]) => [expertDownReference(h!, expert!, gate!, w2!, b2)],
  },

  combine: {
    arity: [1, 1],
    infer: ([slots]) => {
      rank(slots!, 3, "combine input");
      return [{ dtype: slots!.dtype, shape: [slots!.shape[0]!, slots!.shape[2]!] }];
    },
    cost: elementwiseCost(1),
    evaluate: ([slots]) => {
      const [n, k, d] = slots!.shape as [number, number, number];
      const y = tensor([n, d]);
      for (let r = 0; r < n; r++) {
        for (let c = 0; c < d; c++) {
          let acc = 0;
          for (let j = 0; j < k; j++) acc += slots!.data[(r * k + j) * d + c]!;
          y.data[r * d + c] = acc;
        }
      }
      return [y];
    },
  },
};

function expertUpReference(
  x: RefTensor,
  expert: RefTensor,
  w1: RefTensor,
  wUp: RefTensor | undefined,
  b1: RefTensor | undefined,
  act: Activation,
): RefTensor {
  const [n, k] = expert.shape as [number, number];
  const [, f, d] = w1.shape as [number, number, number];
  const h = tensor([n, k, f]);
  const fn = ACTIVATION_FUNCTIONS[act];
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      const e = expert.data[r * k + j]!;
      if (e < 0) continue; // dropped by the capacity limit
      for (let o = 0; o < f; o++) {
        let a = b1 ? b1.data[e * f + o]! : 0;
        let u = 0;
        for (let i = 0; i < d; i++) {
          const xi = x.data[r * d + i]!;
          a += xi * w1.data[(e * f + o) * d + i]!;
          if (wUp) u += xi * wUp.data[(e * f + o) * d + i]!;
        }
        h.data[(r * k + j) * f + o] = wUp ? fn(a) * u : fn(a);
      }
    }
  }
  return h;
}

function expertDownReference(
  h: RefTensor,
  expert: RefTensor,
  gate: RefTensor,
  w2: RefTensor,
  b2: RefTensor | undefined,
): RefTensor {
  const [n, k, f] = h.shape as [number, number, number];
  const d = w2.shape[1]!;
  const y = tensor([n, k, d]);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < k; j++) {
      const e = expert.data[r * k + j]!;
      if (e < 0) continue;
      const g = gate.data[r * k + j]!;
      for (let o = 0; o < d; o++) {
        let acc = b2 ? b2.data[e * d + o]! : 0;
        for (let i = 0; i < f; i++)
          acc += h.data[(r * k + j) * f + i]! * w2.data[(e * d + o) * f + i]!;
        y.data[(r * k + j) * d + o] = g * acc;
      }
    }
  }
  return y;
}
