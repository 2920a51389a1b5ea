// The op table: the one home of every IR op's shape rule, cost and float64 reference semantics.
import {
  type Dim,
  type DType,
  type TensorType,
  dimEquals,
  divideDim,
  formatDim,
  formatType,
  scaleDim,
  shapeEquals,
} from "./types.js";

export type Activation = "gelu" | "gelu_tanh" | "silu" | "relu";
export const ACTIVATIONS: readonly Activation[] = ["gelu", "gelu_tanh", "silu", "relu"];

/** How the k chosen router probabilities become gate weights (design.md section 4). */
export type Gating = "softmax" | "renorm" | "softmax_topk";
export const GATINGS: readonly Gating[] = ["softmax", "renorm", "softmax_topk"];

export type InitKind = "linear" | "bias" | "norm_weight" | "norm_bias" | "embedding" | "router";

/** Attributes of each op; the keys are the op names. */
export interface OpAttrs {
  input: { readonly name: string };
  /** A weight; `{e}` in the name stands for the expert index of a stacked expert tensor. */
  weight: { readonly name: string; readonly init: InitKind; readonly fanIn: number };
  linear: Record<string, never>;
  embedding: Record<string, never>;
  rmsnorm: { readonly eps: number };
  layernorm: { readonly eps: number };
  activation: { readonly fn: Activation };
  add: Record<string, never>;
  mul: Record<string, never>;
  rope: { readonly heads: number; readonly base: number };
  attention: { readonly heads: number };
  split: { readonly heads: number };
  join: { readonly heads: number };
  route: { readonly topK: number; readonly gating: Gating };
  capacity: { readonly experts: number; readonly factor: number };
  expert_up: { readonly act: Activation; readonly gated: boolean; readonly bias: boolean };
  expert_down: { readonly bias: boolean };
  combine: Record<string, never>;
  route_stats: { readonly experts: number; readonly heads: number };

  // Fused ops, made by the optimiser's passes (compiler/passes); never by lowering.
  /** A linear layer with its elementwise epilogue: act(x·Wᵀ + b) + residual. */
  linear_epilogue: {
    readonly bias: boolean;
    readonly act: Activation | "none";
    readonly residual: boolean;
  };
  /** A gated (SwiGLU-style) pair of linears in one pass over x: act(x·Wgᵀ) ⊙ (x·Wuᵀ). */
  linear_glu: { readonly act: Activation };
  /** Router logits, softmax, top-k and gates in one pass; the split into sub-tokens is a view. */
  moe_route: { readonly topK: number; readonly gating: Gating };
  /**
   * Counting sort of the (row, choice) assignments by expert, applying the capacity limit, with
   * the kept counts. Outputs: segment offsets [E+1]; `order` [N·k], the kept assignments
   * expert by expert (choice-major, then row, inside a segment), then the dropped ones in the
   * same order; the kept
   * expert of each assignment (-1 = dropped); counts [heads, E]; dropped [heads].
   */
  moe_permute: { readonly experts: number; readonly factor: number; readonly heads: number };
  /** The load-balancing statistics of a router: top-1 counts and probability sums per expert. */
  route_balance: Record<string, never>;
  /** Grouped GEMM over the expert segments, gathering input rows by index: H = act(x W1ᵀ + b1). */
  moe_grouped_up: { readonly act: Activation; readonly gated: boolean; readonly bias: boolean };
  /** Grouped GEMM 2: slots[a] = gate[a] · (H W2ᵀ + b2), written back to assignment a. */
  moe_grouped_down: { readonly bias: boolean };
  /** The combine read while loading the consumer: join_h(Σ_j slots) · Wᵀ + b. */
  combine_linear: { readonly heads: number; readonly bias: boolean };
  /** The combine fused into the residual add: residual + join_h(Σ_j slots). */
  combine_add: { readonly heads: number };
}

export type OpName = keyof OpAttrs;

/** A dense float64 tensor of the reference interpreter (i32 values are stored exactly). */
export interface RefTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export interface Cost {
  /** Multiply-adds of matrix products (the unit of the MoE parity papers). */
  readonly macs: number;
  /** All floating-point operations: 2 per multiply-add plus elementwise work. */
  readonly flops: number;
  /** Bytes read and written, counting each operand once. */
  readonly bytes: number;
}

export class ShapeError extends Error {}

export interface OpDef<K extends OpName> {
  /** Number of tensor inputs; a range where some are optional (biases). */
  readonly arity: readonly [min: number, max: number];
  /** Output types from input types, or a ShapeError with a user-facing message. */
  readonly infer: (inputs: readonly TensorType[], attrs: OpAttrs[K]) => TensorType[];
  /** Cost on concrete shapes. */
  readonly cost: (
    inputs: readonly number[][],
    outputs: readonly number[][],
    attrs: OpAttrs[K],
  ) => Cost;
  /** Float64 reference semantics; undefined for ops the interpreter binds (input, weight). */
  readonly evaluate?: (inputs: readonly RefTensor[], attrs: OpAttrs[K]) => RefTensor[];
  /** True for ops that only reinterpret their input's memory. */
  readonly view?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Helpers shared by the definitions.

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const rows = (shape: readonly number[]): number => numel(shape.slice(0, -1));
const last = <T>(xs: readonly T[]): T => xs[xs.length - 1]!;

function bytesOf(...shapes: readonly (readonly number[])[]): number {
  return 4 * shapes.reduce((n, s) => n + numel(s), 0);
}

function elementwiseCost(flopsPerElement: number) {
  return (ins: readonly number[][], outs: readonly number[][]): Cost => ({
    macs: 0,
    flops: flopsPerElement * numel(outs[0]!),
    bytes: bytesOf(...ins, ...outs),
  });
}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ShapeError(message);
}

function float(t: TensorType, what: string): void {
  expect(t.dtype !== "i32", `${what} must be a float tensor, got ${formatType(t)}`);
}

function rank(t: TensorType, r: number, what: string): void {
  expect(t.shape.length === r, `${what} must have rank ${r}, got ${formatType(t)}`);
}

function sameDim(a: Dim, b: Dim, message: string): void {
  expect(dimEquals(a, b), message);
}

function tensor(shape: readonly number[], data?: Float64Array): RefTensor {
  return { shape, data: data ?? new Float64Array(numel(shape)) };
}

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse for a 1e-5 oracle; use a series/continued fraction.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = x;
    let term = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz), accurate for |x| >= 2.5.
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    d = ax + a * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + a / c;
    if (c === 0) c = 1e-300;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return x > 0 ? 1 - erfc : erfc - 1;
}

export const ACTIVATION_FUNCTIONS: Readonly<Record<Activation, (x: number) => number>> = {
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
  silu: (x) => x / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : 0),
};

/** Indices of the k largest values; ties go to the lower index (design.md section 4). */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i);
  order.sort((a, b) => values[b]! - values[a]! || a - b);
  return order.slice(0, k);
}

// ---------------------------------------------------------------------------------------------
// The table.

type OpTable = { readonly [K in OpName]: OpDef<K> };

export const OPS: OpTable = {
  input: { arity: [0, 0], infer: () => [], cost: () => ({ macs: 0, flops: 0, bytes: 0 }) },
  weight: { arity: [0, 0], infer: () => [], cost: () => ({ macs: 0, flops: 0, bytes: 0 }) },

  linear: {
    arity: [2, 3],
    infer: ([x, w, b]) => {
      float(x!, "linear input");
      rank(w!, 2, "linear weight");
      expect(x!.shape.length >= 1, "linear input must have rank at least 1");
      sameDim(
        last(x!.shape),
        w!.shape[1]!,
        `linear expects inputs of width ${formatDim(w!.shape[1]!)}, got ${formatType(x!)}`,
      );
      if (b) sameDim(b.shape[0]!, w!.shape[0]!, "linear bias length must equal out features");
      return [{ dtype: x!.dtype, shape: [...x!.shape.slice(0, -1), w!.shape[0]!] }];
    },
    cost: ([x, w, b], [y]) => {
      const macs = rows(x!) * w![0]! * w![1]!;
      return {
        macs,
        flops: 2 * macs + (b ? numel(y!) : 0),
        bytes: bytesOf(x!, w!, y!) + (b ? bytesOf(b) : 0),
      };
    },
    evaluate: ([x, w, b]) => {
      const [out, inn] = w!.shape as [number, number];
      const n = rows(x!.shape);
      const y = tensor([...x!.shape.slice(0, -1), out]);
      for (let r = 0; r < n; r++) {
        for (let o = 0; o < out; o++) {
          let acc = b ? b.data[o]! : 0;
          for (let i = 0; i < inn; i++) acc += x!.data[r * inn + i]! * w!.data[o * inn + i]!;
          y.data[r * out + o] = acc;
        }
      }
      return [y];
    },
  },

  embedding: {
    arity: [2, 2],
    infer: ([ids, w]) => {
      expect(ids!.dtype === "i32", `embedding takes i32 token ids, got ${formatType(ids!)}`);
      rank(w!, 2, "embedding table");
      return [{ dtype: w!.dtype, shape: [...ids!.shape, w!.shape[1]!] }];
    },
    cost: (ins, [y]) => ({ macs: 0, flops: 0, bytes: bytesOf(ins[0]!, y!, y!) }),
    evaluate: ([ids, w]) => {
      const [vocab, dim] = w!.shape as [number, number];
      const y = tensor([...ids!.shape, dim]);
      ids!.data.forEach((id, t) => {
        if (!(id >= 0 && id < vocab))
          throw new RangeError(
            `token id ${id} at position ${t} is outside the vocabulary [0, ${vocab})`,
          );
        y.data.set(w!.data.subarray(id * dim, (id + 1) * dim), t * dim);
      });
      return [y];
    },
  },

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
  },

  activation: {
    arity: [1, 1],
    infer: ([x]) => {
      float(x!, "activation input");
      return [x!];
    },
    cost: elementwiseCost(8),
    evaluate: ([x], { fn }) => [tensor(x!.shape, x!.data.map(ACTIVATION_FUNCTIONS[fn]))],
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
  },

  rope: {
    arity: [1, 1],
    infer: ([x], { heads }) => {
      rank(x!, 2, "rope input");
      const headDim = divideDim(last(x!.shape), heads);
      expect(
        headDim !== undefined && typeof headDim === "number" && headDim % 2 === 0,
        `rotary embedding needs an even head width; width ${formatDim(last(x!.shape))} over ${heads} heads`,
      );
      return [x!];
    },
    cost: elementwiseCost(6),
    evaluate: ([x], { heads, base }) => [applyRope(x!, heads, base)],
  },

  attention: {
    arity: [3, 3],
    infer: ([q, k, v], { heads }) => {
      for (const [t, what] of [
        [q!, "query"],
        [k!, "key"],
        [v!, "value"],
      ] as const) {
        rank(t, 2, `attention ${what}`);
        float(t, `attention ${what}`);
      }
      expect(
        shapeEquals(q!.shape, k!.shape) && shapeEquals(q!.shape, v!.shape),
        "attention q, k, v shapes must match",
      );
      expect(
        divideDim(q!.shape[1]!, heads) !== undefined,
        `attention width must be divisible by ${heads} heads`,
      );
      return [q!];
    },
    cost: ([q], [y]) => {
      const [t, d] = q! as [number, number];
      const macs = t * (t + 1) * d; // causal: QK^T and AV over the visible prefix
      return { macs, flops: 2 * macs + (5 * t * (t + 1)) / 2, bytes: bytesOf(q!, q!, q!, y!) };
    },
    evaluate: ([q, k, v], { heads }) => [causalAttention(q!, k!, v!, heads)],
  },

  split: {
    arity: [1, 1],
    view: true,
    infer: ([x], { heads }) => {
      rank(x!, 2, "split input");
      const width = divideDim(x!.shape[1]!, heads);
      expect(
        width !== undefined,
        `cannot split width ${formatDim(x!.shape[1]!)} into ${heads} heads`,
      );
      return [{ dtype: x!.dtype, shape: [scaleDim(x!.shape[0]!, heads), width] }];
    },
    cost: () => ({ macs: 0, flops: 0, bytes: 0 }),
    // Row-major [N, d] and [N*h, d/h] share one layout: sub-token j of row n is row n*h + j.
    evaluate: ([x], { heads }) => [tensor([x!.shape[0]! * heads, x!.shape[1]! / heads], x!.data)],
  },

  join: {
    arity: [1, 1],
    view: true,
    infer: ([x], { heads }) => {
      rank(x!, 2, "join input");
      const n = divideDim(x!.shape[0]!, heads);
      expect(
        n !== undefined,
        `cannot join ${formatDim(x!.shape[0]!)} sub-tokens into rows of ${heads}`,
      );
      return [{ dtype: x!.dtype, shape: [n, scaleDim(x!.shape[1]!, heads)] }];
    },
    cost: () => ({ macs: 0, flops: 0, bytes: 0 }),
    evaluate: ([x], { heads }) => [tensor([x!.shape[0]! / heads, x!.shape[1]! * heads], x!.data)],
  },

  route: {
    arity: [1, 1],
    infer: ([logits], { topK }) => {
      rank(logits!, 2, "router logits");
      const experts = logits!.shape[1]!;
      expect(
        typeof experts === "number" && topK >= 1 && topK <= experts,
        `top_k must be between 1 and the number of experts (${formatDim(experts)}), got ${topK}`,
      );
      const n = logits!.shape[0]!;
      return [
        { dtype: "i32", shape: [n, topK] },
        { dtype: "f32", shape: [n, topK] },
        { dtype: "f32", shape: [n, experts] },
      ];
    },
    cost: ([logits]) => ({ macs: 0, flops: 4 * numel(logits!), bytes: 2 * bytesOf(logits!) }),
    evaluate: ([logits], { topK, gating }) => routeReference(logits!, topK, gating),
  },

  capacity: {
    arity: [2, 2],
    infer: ([expert, gate]) => {
      expect(
        expert!.dtype === "i32" && gate!.dtype !== "i32",
        "capacity takes expert ids and gates",
      );
      return [expert!, gate!];
    },
    cost: ([e]) => ({ macs: 0, flops: numel(e!), bytes: 4 * bytesOf(e!) }),
    evaluate: ([expert, gate], { experts, factor }) =>
      capacityReference(expert!, gate!, experts, factor),
  },

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

  route_stats: {
    arity: [3, 3],
    infer: ([, , probs], { experts, heads }) => {
      expect(probs!.shape[1] === experts, "route_stats: probabilities must cover every expert");
      return [
        { dtype: "i32", shape: [heads, experts] },
        { dtype: "i32", shape: [experts] },
        { dtype: "f32", shape: [experts] },
        { dtype: "i32", shape: [heads] },
      ];
    },
    cost: ([e, , p]) => ({ macs: 0, flops: numel(p!), bytes: bytesOf(e!, e!, p!) }),
    evaluate: ([routed, kept, probs], { experts, heads }) =>
      statsReference(routed!, kept!, probs!, experts, heads),
  },

  linear_epilogue: {
    arity: [2, 4],
    infer: (inputs, { bias, residual }) => {
      const [x, w] = inputs;
      const [y] = OPS.linear.infer(bias ? inputs.slice(0, 3) : [x!, w!], {});
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
      const base = OPS.linear.cost(bias ? ins.slice(0, 3) : ins.slice(0, 2), outs, {});
      const extra = (act === "none" ? 0 : 8) + (residual ? 1 : 0);
      return { ...base, flops: base.flops + extra * numel(outs[0]!) };
    },
    evaluate: (inputs, { bias, act, residual }) => {
      let [y] = OPS.linear.evaluate!(bias ? inputs.slice(0, 3) : inputs.slice(0, 2), {});
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
      return OPS.linear.infer([x!, wg!], {});
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
      const [g] = OPS.linear.evaluate!([x!, wg!], {});
      const [u] = OPS.linear.evaluate!([x!, wu!], {});
      const fn = ACTIVATION_FUNCTIONS[act];
      return [
        tensor(
          g!.shape,
          g!.data.map((v, i) => fn(v) * u!.data[i]!),
        ),
      ];
    },
  },

  moe_route: {
    arity: [2, 2],
    infer: ([x, w], attrs) => OPS.route.infer(OPS.linear.infer([x!, w!], {}), attrs),
    cost: ([x, w], outs, attrs) => {
      const logits = [x![0]!, w![0]!];
      const a = OPS.linear.cost([x!, w!], [logits], {});
      const b = OPS.route.cost([logits], outs, attrs);
      return { macs: a.macs, flops: a.flops + b.flops, bytes: bytesOf(x!, w!, ...outs) };
    },
    evaluate: ([x, w], attrs) => OPS.route.evaluate!(OPS.linear.evaluate!([x!, w!], {}), attrs),
  },

  moe_permute: {
    arity: [1, 1],
    infer: ([expert], { experts, heads }) => {
      expect(
        expert!.dtype === "i32" && expert!.shape.length === 2,
        "moe_permute takes expert ids [rows, k]",
      );
      const [n, k] = expert!.shape as [Dim, number];
      return [
        { dtype: "i32", shape: [experts + 1] },
        { dtype: "i32", shape: [scaleDim(n, k)] },
        expert!,
        { dtype: "i32", shape: [heads, experts] },
        { dtype: "i32", shape: [heads] },
      ];
    },
    cost: ([e]) => ({ macs: 0, flops: numel(e!), bytes: 4 * bytesOf(e!) }),
    evaluate: ([expert], { experts, factor, heads }) => {
      const kept = factor > 0 ? keptExperts(expert!, experts, factor) : expert!;
      const [n, k] = expert!.shape as [number, number];
      const offsets = tensor([experts + 1]);
      const order = tensor([n * k]);
      let next = 0;
      for (let e = 0; e < experts; e++) {
        offsets.data[e] = next;
        for (let j = 0; j < k; j++)
          for (let r = 0; r < n; r++)
            if (kept!.data[r * k + j] === e) order.data[next++] = r * k + j;
      }
      offsets.data[experts] = next;
      // Dropped assignments follow, grouped by the expert that could not take them.
      for (let e = 0; e < experts; e++)
        for (let j = 0; j < k; j++)
          for (let r = 0; r < n; r++) {
            const a = r * k + j;
            if (expert!.data[a] === e && kept!.data[a]! < 0) order.data[next++] = a;
          }
      const [counts, , , dropped] = statsReference(
        expert!,
        kept!,
        emptyProbs(n, experts),
        experts,
        heads,
      );
      return [offsets, order, kept!, counts!, dropped!];
    },
  },

  route_balance: {
    arity: [2, 2],
    infer: ([expert, probs]) => {
      const experts = probs!.shape[1]!;
      expect(
        typeof experts === "number" && expert!.dtype === "i32",
        "route_balance takes expert ids and probabilities",
      );
      return [
        { dtype: "i32", shape: [experts] },
        { dtype: "f32", shape: [experts] },
      ];
    },
    cost: ([e, p]) => ({ macs: 0, flops: numel(p!), bytes: bytesOf(e!, p!) }),
    evaluate: ([expert, probs]) => {
      const experts = probs!.shape[1]!;
      const [, top1, probSum] = statsReference(expert!, expert!, probs!, experts, 1);
      return [top1!, probSum!];
    },
  },

  moe_grouped_up: {
    arity: [5, 6],
    // Same result as expert_up: order and offsets only say how the GPU walks the assignments.
    infer: ([x, expert, , , w1, extra], attrs) =>
      OPS.expert_up.infer([x!, expert!, w1!, ...(extra ? [extra] : [])], attrs),
    cost: ([x, e, , , w1, extra], outs, attrs) =>
      OPS.expert_up.cost([x!, e!, w1!, ...(extra ? [extra] : [])], outs, attrs),
    evaluate: ([x, expert, , , w1, extra], attrs) =>
      OPS.expert_up.evaluate!([x!, expert!, w1!, ...(extra ? [extra] : [])], attrs),
  },

  moe_grouped_down: {
    arity: [6, 7],
    infer: ([h, expert, , , gate, w2, b2], attrs) =>
      OPS.expert_down.infer([h!, expert!, gate!, w2!, ...(b2 ? [b2] : [])], attrs),
    cost: ([h, e, , , g, w2, b2], outs, attrs) =>
      OPS.expert_down.cost([h!, e!, g!, w2!, ...(b2 ? [b2] : [])], outs, attrs),
    evaluate: ([h, expert, , , gate, w2, b2], attrs) =>
      OPS.expert_down.evaluate!([h!, expert!, gate!, w2!, ...(b2 ? [b2] : [])], attrs),
  },

  combine_linear: {
    arity: [2, 3],
    infer: ([slots, w, b], { heads }) => {
      const [combined] = OPS.combine.infer([slots!], {});
      const [joined] = heads > 1 ? OPS.join.infer([combined!], { heads }) : [combined!];
      return OPS.linear.infer([joined!, w!, ...(b ? [b] : [])], {});
    },
    cost: ([slots, w, b], outs) => {
      const [n, k, d] = slots! as [number, number, number];
      const base = OPS.linear.cost([[outs[0]![0]!, w![1]!], w!, ...(b ? [b] : [])], outs, {});
      return { ...base, flops: base.flops + n * k * d, bytes: base.bytes + bytesOf(slots!) };
    },
    evaluate: ([slots, w, b], { heads }) => {
      const [combined] = OPS.combine.evaluate!([slots!], {});
      const [joined] = heads > 1 ? OPS.join.evaluate!([combined!], { heads }) : [combined!];
      return OPS.linear.evaluate!([joined!, w!, ...(b ? [b] : [])], {});
    },
  },

  combine_add: {
    arity: [2, 2],
    infer: ([slots, residual], { heads }) => {
      const [combined] = OPS.combine.infer([slots!], {});
      const [joined] = heads > 1 ? OPS.join.infer([combined!], { heads }) : [combined!];
      return OPS.add.infer([joined!, residual!], {});
    },
    cost: ([slots, r], outs) => ({
      macs: 0,
      flops: numel(slots!),
      bytes: bytesOf(slots!, r!, outs[0]!),
    }),
    evaluate: ([slots, residual], { heads }) => {
      const [combined] = OPS.combine.evaluate!([slots!], {});
      const [joined] = heads > 1 ? OPS.join.evaluate!([combined!], { heads }) : [combined!];
      return OPS.add.evaluate!([joined!, residual!], {});
    },
  },
};

export const OP_NAMES = Object.keys(OPS) as OpName[];

// ---------------------------------------------------------------------------------------------
// Reference kernels too long to sit inline in the table.

function applyRope(x: RefTensor, heads: number, base: number): RefTensor {
  const [t, d] = x.shape as [number, number];
  const headDim = d / heads;
  const half = headDim / 2;
  const y = tensor(x.shape);
  for (let pos = 0; pos < t; pos++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const angle = pos * Math.pow(base, (-2 * i) / headDim);
        const a = pos * d + h * headDim + i;
        const x1 = x.data[a]!;
        const x2 = x.data[a + half]!;
        y.data[a] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
        y.data[a + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
      }
    }
  }
  return y;
}

function causalAttention(q: RefTensor, k: RefTensor, v: RefTensor, heads: number): RefTensor {
  const [t, d] = q.shape as [number, number];
  const headDim = d / heads;
  const scale = 1 / Math.sqrt(headDim);
  const y = tensor(q.shape);
  const scores = new Float64Array(t);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < t; i++) {
      let max = -Infinity;
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let c = 0; c < headDim; c++)
          s += q.data[i * d + h * headDim + c]! * k.data[j * d + h * headDim + c]!;
        scores[j] = s * scale;
        max = Math.max(max, scores[j]!);
      }
      let sum = 0;
      for (let j = 0; j <= i; j++) sum += scores[j] = Math.exp(scores[j]! - max);
      for (let c = 0; c < headDim; c++) {
        let acc = 0;
        for (let j = 0; j <= i; j++) acc += scores[j]! * v.data[j * d + h * headDim + c]!;
        y.data[i * d + h * headDim + c] = acc / sum;
      }
    }
  }
  return y;
}

function routeReference(logits: RefTensor, topK: number, gating: Gating): RefTensor[] {
  const [n, experts] = logits.shape as [number, number];
  const expert = tensor([n, topK]);
  const gate = tensor([n, topK]);
  const probs = tensor([n, experts]);
  for (let r = 0; r < n; r++) {
    const row = logits.data.subarray(r * experts, (r + 1) * experts);
    const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
    let sum = 0;
    for (let e = 0; e < experts; e++) sum += probs.data[r * experts + e] = Math.exp(row[e]! - max);
    for (let e = 0; e < experts; e++) probs.data[r * experts + e]! /= sum;
    const p = probs.data.subarray(r * experts, (r + 1) * experts);
    const chosen = topKIndices(p, topK);
    // softmax over the kept logits equals the kept probabilities renormalised (Mixtral = GShard).
    const keptSum = gating === "softmax" ? 1 : chosen.reduce((s, e) => s + p[e]!, 0);
    chosen.forEach((e, j) => {
      expert.data[r * topK + j] = e;
      gate.data[r * topK + j] = p[e]! / keptSum;
    });
  }
  return [expert, gate, probs];
}

/** Capacity C = ceil(factor * k * ceil(S / E)); all first choices are placed before any second. */
export function expertCapacity(
  rowsRouted: number,
  topK: number,
  experts: number,
  factor: number,
): number {
  return Math.ceil(factor * topK * Math.ceil(rowsRouted / experts));
}

/** Expert ids after the capacity limit (-1 = dropped), in the official order. */
function keptExperts(expert: RefTensor, experts: number, factor: number): RefTensor {
  const [n, k] = expert.shape as [number, number];
  const capacity = expertCapacity(n, k, experts, factor);
  const kept = tensor(expert.shape, expert.data.slice());
  const load = new Array<number>(experts).fill(0);
  for (let j = 0; j < k; j++) {
    for (let r = 0; r < n; r++) {
      const e = expert.data[r * k + j]!;
      if (load[e]! < capacity) load[e]!++;
      else kept.data[r * k + j] = -1;
    }
  }
  return kept;
}

function capacityReference(
  expert: RefTensor,
  gate: RefTensor,
  experts: number,
  factor: number,
): RefTensor[] {
  const kept = keptExperts(expert, experts, factor);
  return [
    kept,
    tensor(
      gate.shape,
      gate.data.map((g, a) => (kept.data[a]! < 0 ? 0 : g)),
    ),
  ];
}

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

function emptyProbs(rows: number, experts: number): RefTensor {
  return tensor([rows, experts]);
}

function statsReference(
  routed: RefTensor,
  kept: RefTensor,
  probs: RefTensor,
  experts: number,
  heads: number,
): RefTensor[] {
  const [n, k] = kept.shape as [number, number];
  const counts = tensor([heads, experts]);
  const top1 = tensor([experts]);
  const probSum = tensor([experts]);
  const dropped = tensor([heads]);
  for (let r = 0; r < n; r++) {
    const head = r % heads;
    top1.data[routed.data[r * k]!]!++;
    for (let j = 0; j < k; j++) {
      const e = kept.data[r * k + j]!;
      if (e < 0) dropped.data[head]!++;
      else counts.data[head * experts + e]!++;
    }
    for (let e = 0; e < experts; e++) probSum.data[e]! += probs.data[r * experts + e]!;
  }
  return [counts, top1, probSum, dropped];
}

export type { DType };
