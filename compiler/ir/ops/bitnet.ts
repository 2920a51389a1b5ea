// BitNet b1.58 layers (arXiv 2402.17764; plan/bitnet.ts has the number formats): activations
// quantised per row to int8 with an absmax scale, then linear layers and experts whose weights
// are ternary with one absmean scale per matrix. The reference keeps a t2 weight as its values
// γ·t (exact in float64); the integer dot products Σ q·t are exact, then rescaled.
import { quantizeRows } from "../../../plan/bitnet.js";
import { formatDim, formatType, shapeEquals } from "../types.js";
import type { TensorType } from "../types.js";
import type { Cost, OpFamily, RefTensor } from "./def.js";
import { expect, last, numel, rank, rows, sameDim, tensor } from "./helpers.js";
import { ACTIVATION_FUNCTIONS } from "./math.js";

export const BITNET_OPS: OpFamily<"act_quant" | "bitlinear" | "bit_expert_up" | "bit_expert_down"> =
  {
    act_quant: {
      arity: [1, 1],
      infer: ([x]) => {
        expect(x!.dtype === "f32", `quantised layers take f32 inputs, got ${formatType(x!)}`);
        expect(x!.shape.length >= 1, "quantised input must have rank at least 1");
        return [
          { dtype: "i8", shape: x!.shape },
          { dtype: "f32", shape: x!.shape.slice(0, -1) },
        ];
      },
      cost: ([x]) => ({ macs: 0, flops: 3 * numel(x!), bytes: 4 * numel(x!) + numel(x!) }),
      evaluate: ([x]) => {
        const d = last(x!.shape);
        const { values, scales } = quantizeRows(x!.data, d);
        return [tensor(x!.shape, Float64Array.from(values)), tensor(x!.shape.slice(0, -1), scales)];
      },
    },

    bitlinear: {
      arity: [3, 4],
      infer: ([q, s, w, b]) => {
        quantised(q!, s!, "linear");
        ternary(w!, 2, "linear weight");
        sameDim(
          last(q!.shape),
          w!.shape[1]!,
          `linear expects inputs of width ${formatDim(w!.shape[1]!)}, got ${formatType(q!)}`,
        );
        if (b) sameDim(b.shape[0]!, w!.shape[0]!, "linear bias length must equal out features");
        return [{ dtype: "f32", shape: [...q!.shape.slice(0, -1), w!.shape[0]!] }];
      },
      cost: ([q, , w, b], [y]) => bitCost(rows(q!) * w![0]! * w![1]!, numel(w!), y!, b),
      evaluate: ([q, s, w, b]) => {
        const [out, inn] = w!.shape as [number, number];
        const { values, scales } = splitTernary(w!);
        const n = rows(q!.shape);
        const y = tensor([...q!.shape.slice(0, -1), out]);
        for (let r = 0; r < n; r++) {
          for (let o = 0; o < out; o++) {
            const acc = intDot(q!.data, r * inn, values, o * inn, inn);
            y.data[r * out + o] = acc * (s!.data[r]! * scales[0]!) + (b ? b.data[o]! : 0);
          }
        }
        return [y];
      },
    },

    bit_expert_up: {
      arity: [4, 5],
      infer: ([q, s, expert, w1, extra], { gated, bias }) => {
        quantised(q!, s!, "expert");
        rank(q!, 2, "expert input");
        rank(expert!, 2, "expert choices");
        ternary(w1!, 3, "stacked expert weight");
        sameDim(
          q!.shape[1]!,
          w1!.shape[2]!,
          `experts expect inputs of width ${formatDim(w1!.shape[2]!)}, got ${formatType(q!)}`,
        );
        if (gated)
          expect(
            extra !== undefined && extra.dtype === "t2" && shapeEquals(w1!.shape, extra.shape),
            "gated experts need ternary gate and up weights of one shape",
          );
        if (bias)
          expect(
            extra !== undefined && extra.shape.length === 2,
            "expert bias must be [experts, hidden]",
          );
        return [{ dtype: "f32", shape: [q!.shape[0]!, expert!.shape[1]!, w1!.shape[1]!] }];
      },
      cost: ([, , e, w1, extra], [h], { gated }) =>
        bitCost(
          numel(e!) * w1![1]! * w1![2]! * (gated ? 2 : 1),
          numel(w1!) * (gated ? 2 : 1),
          h!,
          gated ? undefined : extra,
        ),
      evaluate: ([q, s, expert, w1, extra], { act, gated, bias }) => {
        const [n, k] = expert!.shape as [number, number];
        const [, f, d] = w1!.shape as [number, number, number];
        const t1 = splitTernary(w1!);
        const tUp = gated ? splitTernary(extra!) : undefined;
        const b1 = bias ? extra : undefined;
        const fn = ACTIVATION_FUNCTIONS[act];
        const h = tensor([n, k, f]);
        for (let r = 0; r < n; r++) {
          for (let j = 0; j < k; j++) {
            const e = expert!.data[r * k + j]!;
            if (e < 0) continue; // dropped by the capacity limit
            for (let o = 0; o < f; o++) {
              const row = (e * f + o) * d;
              const acc = intDot(q!.data, r * d, t1.values, row, d);
              const a = acc * (s!.data[r]! * t1.scales[e]!) + (b1 ? b1.data[e * f + o]! : 0);
              let value = fn(a);
              if (tUp) {
                const up = intDot(q!.data, r * d, tUp.values, row, d);
                value *= up * (s!.data[r]! * tUp.scales[e]!);
              }
              h.data[(r * k + j) * f + o] = value;
            }
          }
        }
        return [h];
      },
    },

    bit_expert_down: {
      arity: [5, 6],
      infer: ([q, s, expert, gate, w2, b2]) => {
        quantised(q!, s!, "expert output");
        rank(q!, 3, "expert hidden");
        ternary(w2!, 3, "stacked expert output weight");
        sameDim(q!.shape[2]!, w2!.shape[2]!, "expert output weight must take the hidden width");
        expect(
          shapeEquals(expert!.shape, gate!.shape),
          "expert choices and gates must have one shape",
        );
        if (b2) rank(b2, 2, "expert output bias");
        return [{ dtype: "f32", shape: [q!.shape[0]!, q!.shape[1]!, w2!.shape[1]!] }];
      },
      cost: ([, , e, , w2, b2], [y]) => bitCost(numel(e!) * w2![1]! * w2![2]!, numel(w2!), y!, b2),
      evaluate: ([q, s, expert, gate, w2, b2]) => {
        const [n, k, f] = q!.shape as [number, number, number];
        const d = w2!.shape[1]!;
        const t2 = splitTernary(w2!);
        const y = tensor([n, k, d]);
        for (let a = 0; a < n * k; a++) {
          const e = expert!.data[a]!;
          if (e < 0) continue;
          for (let o = 0; o < d; o++) {
            const acc = intDot(q!.data, a * f, t2.values, (e * d + o) * f, f);
            const v = acc * (s!.data[a]! * t2.scales[e]!) + (b2 ? b2.data[e * d + o]! : 0);
            y.data[a * d + o] = gate!.data[a]! * v;
          }
        }
        return [y];
      },
    },
  };

function quantised(q: TensorType, s: TensorType, what: string): void {
  expect(q.dtype === "i8", `quantised ${what} takes int8 activations, got ${formatType(q)}`);
  expect(
    s.dtype === "f32" && shapeEquals(s.shape, q.shape.slice(0, -1)),
    `quantised ${what} needs one activation scale per row`,
  );
}

function ternary(w: TensorType, r: number, what: string): void {
  expect(w.dtype === "t2", `${what} must be ternary (t2), got ${formatType(w)}`);
  rank(w, r, what);
}

/** MACs as for f32; weights read at 2 bits, activations at 8. */
function bitCost(
  macs: number,
  weights: number,
  out: readonly number[],
  bias: readonly number[] | undefined,
): Cost {
  return {
    macs,
    flops: 2 * macs + 2 * numel(out),
    bytes: weights / 4 + 4 * numel(out) + (bias ? 4 * numel(bias) : 0),
  };
}

/** A t2 reference tensor (values γ·t) as integer values t and one scale γ per matrix. */
function splitTernary(w: RefTensor): { values: Float64Array; scales: Float64Array } {
  const [rowsOf, cols] = w.shape.slice(-2) as [number, number];
  const size = rowsOf * cols;
  const matrices = w.data.length / size;
  const values = new Float64Array(w.data.length);
  const scales = new Float64Array(matrices);
  for (let m = 0; m < matrices; m++) {
    let g = 0;
    for (let i = 0; i < size; i++) g = Math.max(g, Math.abs(w.data[m * size + i]!));
    scales[m] = g;
    for (let i = 0; i < size; i++) {
      const t = g === 0 ? 0 : w.data[m * size + i]! / g;
      if (t !== 0 && t !== 1 && t !== -1) {
        throw new RangeError(`ternary weight has value ${w.data[m * size + i]} besides ±${g}`);
      }
      values[m * size + i] = t;
    }
  }
  return { values, scales };
}

/** Σ q[qa + i] · t[ta + i], exact: integers far below 2^53. */
function intDot(q: Float64Array, qa: number, t: Float64Array, ta: number, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc += q[qa + i]! * t[ta + i]!;
  return acc;
}
