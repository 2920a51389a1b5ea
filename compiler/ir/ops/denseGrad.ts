// Backward ops of the dense layers (linear, embedding, norms, activations, rotary positions):
// the gradient rules of their forward entries emit these. Reductions run in a fixed order (rows
// ascending) so the GPU kernels can match the reference bit for bit from run to run.
import { formatType, shapeEquals } from "../types.js";
import type { Activation, OpFamily, RefTensor } from "./def.js";
import {
  bytesOf,
  elementwiseCost,
  expect,
  last,
  matmulCost,
  rank,
  rows,
  tensor,
} from "./helpers.js";
import { ACTIVATION_FUNCTIONS } from "./math.js";
import { applyRope, interleave } from "./attention.js";

export type NormKind = "rms" | "layer";

export const DENSE_GRAD_OPS: OpFamily<
  | "linear_grad_input"
  | "linear_grad_weight"
  | "sum_rows"
  | "embedding_grad"
  | "activation_grad"
  | "norm_grad_input"
  | "norm_grad_weight"
  | "rope_grad"
> = {
  /** dx = dy · W. */
  linear_grad_input: {
    arity: [2, 2],
    infer: ([dy, w]) => {
      rank(w!, 2, "linear weight");
      return [{ dtype: dy!.dtype, shape: [...dy!.shape.slice(0, -1), w!.shape[1]!] }];
    },
    cost: ([dy, w], [dx]) => matmulCost(rows(dy!) * w![0]! * w![1]!, [dy!, w!, dx!]),
    evaluate: ([dy, w]) => {
      const [out, inn] = w!.shape as [number, number];
      const n = rows(dy!.shape);
      const dx = tensor([...dy!.shape.slice(0, -1), inn]);
      for (let r = 0; r < n; r++)
        for (let i = 0; i < inn; i++) {
          let acc = 0;
          for (let o = 0; o < out; o++) acc += dy!.data[r * out + o]! * w!.data[o * inn + i]!;
          dx.data[r * inn + i] = acc;
        }
      return [dx];
    },
  },

  /** dW = dyᵀ · x, summed over rows in ascending order. */
  linear_grad_weight: {
    arity: [2, 2],
    infer: ([x, dy]) => [{ dtype: dy!.dtype, shape: [last(dy!.shape), last(x!.shape)] }],
    cost: ([x, dy], [dw]) => matmulCost(rows(x!) * dw![0]! * dw![1]!, [x!, dy!, dw!]),
    evaluate: ([x, dy]) => {
      const out = last(dy!.shape);
      const inn = last(x!.shape);
      const n = rows(x!.shape);
      const dw = tensor([out, inn]);
      for (let o = 0; o < out; o++)
        for (let i = 0; i < inn; i++) {
          let acc = 0;
          for (let r = 0; r < n; r++) acc += dy!.data[r * out + o]! * x!.data[r * inn + i]!;
          dw.data[o * inn + i] = acc;
        }
      return [dw];
    },
  },

  /** Σ over rows of the last axis (the gradient of a bias), rows ascending. */
  sum_rows: {
    arity: [1, 1],
    infer: ([dy]) => [{ dtype: dy!.dtype, shape: [last(dy!.shape)] }],
    cost: elementwiseCostOfInput(1),
    evaluate: ([dy]) => [sumRows(dy!)],
  },

  /** dTable[v] = Σ over positions t with ids[t] = v of dy[t], t ascending (deterministic). */
  embedding_grad: {
    arity: [2, 2],
    infer: ([ids, dy], { vocab }) => {
      expect(ids!.dtype === "i32", `embedding_grad takes i32 token ids, got ${formatType(ids!)}`);
      return [{ dtype: dy!.dtype, shape: [vocab, last(dy!.shape)] }];
    },
    cost: ([ids, dy], [dw]) => ({ macs: 0, flops: 0, bytes: bytesOf(ids!, dy!, dw!) }),
    evaluate: ([ids, dy], { vocab }) => {
      const dim = last(dy!.shape);
      const dw = tensor([vocab, dim]);
      ids!.data.forEach((id, t) => {
        for (let c = 0; c < dim; c++) dw.data[id * dim + c]! += dy!.data[t * dim + c]!;
      });
      return [dw];
    },
  },

  /** dx = act'(x) · dy. */
  activation_grad: {
    arity: [2, 2],
    infer: ([x, dy]) => {
      expect(shapeEquals(x!.shape, dy!.shape), "activation_grad: x and dy shapes must match");
      return [x!];
    },
    cost: elementwiseCost(10),
    evaluate: ([x, dy], { fn }) => {
      const derivative = ACTIVATION_DERIVATIVES[fn];
      return [
        tensor(
          x!.shape,
          x!.data.map((v, i) => derivative(v) * dy!.data[i]!),
        ),
      ];
    },
  },

  /** dx of RMSNorm or LayerNorm from x, the weight and dy (the bias does not enter dx). */
  norm_grad_input: {
    arity: [3, 3],
    infer: ([x, , dy]) => {
      expect(shapeEquals(x!.shape, dy!.shape), "norm_grad_input: x and dy shapes must match");
      return [x!];
    },
    cost: elementwiseCost(10),
    evaluate: ([x, w, dy], { kind, eps }) => [normGradInput(x!, w!, dy!, kind, eps)],
  },

  /** dWeight = Σ over rows of dy · x̂ (x̂ the normalised input), rows ascending. */
  norm_grad_weight: {
    arity: [2, 2],
    infer: ([x]) => [{ dtype: x!.dtype, shape: [last(x!.shape)] }],
    cost: elementwiseCostOfInput(6),
    evaluate: ([x, dy], { kind, eps }) => {
      const d = last(x!.shape);
      const xhat = normalise(x!, kind, eps);
      const dw = tensor([d]);
      for (let r = 0; r < rows(x!.shape); r++)
        for (let i = 0; i < d; i++) dw.data[i]! += dy!.data[r * d + i]! * xhat.data[r * d + i]!;
      return [dw];
    },
  },

  /** The rotation is orthogonal: its gradient rotates dy back by the negative angle. */
  rope_grad: {
    arity: [1, 2],
    infer: ([dy]) => [dy!],
    cost: elementwiseCost(6),
    evaluate: ([dy, positions], { heads, base, interleaved, invFreq, attentionFactor }) => {
      const dx = applyRope(dy!, heads, base, -1, {
        positions: positions && Array.from(positions.data),
        invFreq,
        attentionFactor,
      });
      return [interleaved ? interleave(dx, heads) : dx];
    },
  },
};

function elementwiseCostOfInput(flopsPerElement: number) {
  return (ins: readonly number[][], outs: readonly number[][]) =>
    elementwiseCost(flopsPerElement)(ins, [ins[0]!, ...outs.slice(1)]);
}

export function sumRows(dy: RefTensor): RefTensor {
  const d = last(dy.shape);
  const sum = tensor([d]);
  for (let r = 0; r < rows(dy.shape); r++)
    for (let i = 0; i < d; i++) sum.data[i]! += dy.data[r * d + i]!;
  return sum;
}

/** Derivatives of the activations in float64 (ops/math.ts holds the functions themselves). */
export const ACTIVATION_DERIVATIVES: Readonly<Record<Activation, (x: number) => number>> = {
  gelu: (x) => {
    const cdf = ACTIVATION_FUNCTIONS.gelu(x) / x; // Φ(x) = gelu(x)/x away from 0
    const pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    return (x === 0 ? 0.5 : cdf) + x * pdf;
  },
  gelu_tanh: (x) => {
    const c = Math.sqrt(2 / Math.PI);
    const t = Math.tanh(c * (x + 0.044715 * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
  },
  silu: (x) => {
    const s = 1 / (1 + Math.exp(-x));
    return s * (1 + x * (1 - s));
  },
  relu: (x) => (x > 0 ? 1 : 0),
  sigmoid: (x) => {
    const s = 1 / (1 + Math.exp(-x));
    return s * (1 - s);
  },
};

/** The per-row scale 1/sqrt(ms + eps) and mean (0 for RMSNorm) of a norm's input. */
function rowStats(x: RefTensor, r: number, kind: NormKind, eps: number) {
  const d = last(x.shape);
  let mean = 0;
  if (kind === "layer") {
    for (let i = 0; i < d; i++) mean += x.data[r * d + i]!;
    mean /= d;
  }
  let ss = 0;
  for (let i = 0; i < d; i++) ss += (x.data[r * d + i]! - mean) ** 2;
  return { mean, scale: 1 / Math.sqrt(ss / d + eps) };
}

function normalise(x: RefTensor, kind: NormKind, eps: number): RefTensor {
  const d = last(x.shape);
  const y = tensor(x.shape);
  for (let r = 0; r < rows(x.shape); r++) {
    const { mean, scale } = rowStats(x, r, kind, eps);
    for (let i = 0; i < d; i++) y.data[r * d + i] = (x.data[r * d + i]! - mean) * scale;
  }
  return y;
}

/** g = dy ⊙ w; dx = s · (g − mean(g) − x̂ · mean(g ⊙ x̂)), without the mean(g) term for RMSNorm. */
function normGradInput(
  x: RefTensor,
  w: RefTensor,
  dy: RefTensor,
  kind: NormKind,
  eps: number,
): RefTensor {
  const d = last(x.shape);
  const dx = tensor(x.shape);
  for (let r = 0; r < rows(x.shape); r++) {
    const { mean, scale } = rowStats(x, r, kind, eps);
    let gMean = 0;
    let gxMean = 0;
    for (let i = 0; i < d; i++) {
      const g = dy.data[r * d + i]! * w.data[i]!;
      gMean += g;
      gxMean += g * (x.data[r * d + i]! - mean) * scale;
    }
    gMean = kind === "layer" ? gMean / d : 0;
    gxMean /= d;
    for (let i = 0; i < d; i++) {
      const g = dy.data[r * d + i]! * w.data[i]!;
      const xhat = (x.data[r * d + i]! - mean) * scale;
      dx.data[r * d + i] = scale * (g - gMean - xhat * gxMean);
    }
  }
  return dx;
}
