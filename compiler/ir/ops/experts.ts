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
    grad: ({ inputs: [x, expert, w1, extra], dOutputs: [dh], attrs, needs, type, emit }) => {
      const experts = type(w1!).shape[0] as number;
      const ins = [x!, expert!, w1!, ...(extra === undefined ? [] : [extra]), dh!];
      const [dA, dU] = emit("expert_up_grad", ins, attrs);
      const backprop = (d: number, w: number) =>
        emit("expert_backprop", [d, expert!, w], { sumChoices: true })[0]!;
      let dx: number | undefined;
      if (needs[0]) {
        dx = backprop(dA!, w1!);
        if (attrs.gated) dx = emit("add", [dx, backprop(dU!, extra!)], {})[0]!;
      }
      const dExtra = attrs.gated
        ? emit("expert_weight_grad", [x!, expert!, dU!], { experts })[0]
        : attrs.bias
          ? emit("expert_bias_grad", [expert!, dA!], { experts })[0]
          : undefined;
      const dW1 = emit("expert_weight_grad", [x!, expert!, dA!], { experts })[0];
      return [dx, undefined, dW1, dExtra];
    },
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
    grad: ({ inputs: [h, expert, gate, w2, b2], dOutputs: [dy], attrs, needs, type, emit }) => {
      const experts = type(w2!).shape[0] as number;
      const ins = [h!, expert!, gate!, w2!, ...(b2 === undefined ? [] : [b2]), dy!];
      const [dz, dgate] = emit("expert_down_grad", ins, attrs);
      const dh = needs[0]
        ? emit("expert_backprop", [dz!, expert!, w2!], { sumChoices: false })[0]
        : undefined;
      return [
        dh,
        undefined,
        dgate,
        emit("expert_weight_grad", [h!, expert!, dz!], { experts })[0],
        b2 === undefined ? undefined : emit("expert_bias_grad", [expert!, dz!], { experts })[0],
      ];
    },
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
    grad: ({ inputs: [slots], dOutputs: [dy], type, emit }) => [
      emit("combine_grad", [dy!], { topK: type(slots!).shape[1] as number })[0],
    ],
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
