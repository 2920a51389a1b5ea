// Backward ops of the column surgery (ops/columns.ts) and of per-row scaling: a band of columns
// put back into a zero matrix, repeated rows summed back together, and row-wise dot products.
// Every sum runs in a fixed order, so the GPU kernels are reproducible run to run.
import { divideDim, formatType, shapeEquals } from "../types.js";
import type { OpFamily } from "./def.js";
import { bytesOf, expect, float, numel, rank, tensor } from "./helpers.js";

export const COLUMN_GRAD_OPS: OpFamily<"pad_cols" | "repeat_rows_grad" | "row_dot"> = {
  /** y[:, start : start + width] = x, zero elsewhere; y is `total` columns wide. */
  pad_cols: {
    arity: [1, 1],
    infer: ([x], { start, total }) => {
      rank(x!, 2, "padded matrix");
      const width = x!.shape[1]!;
      expect(
        typeof width === "number" && start >= 0 && start + width <= total,
        `cannot place ${formatType(x!)} at column ${start} of a matrix ${total} wide`,
      );
      return [{ dtype: x!.dtype, shape: [x!.shape[0]!, total] }];
    },
    cost: (_, [y]) => ({ macs: 0, flops: 0, bytes: 2 * bytesOf(y!) }),
    evaluate: ([x], { start, total }) => {
      const [rows, width] = x!.shape as [number, number];
      const y = tensor([rows, total]);
      for (let r = 0; r < rows; r++)
        y.data.set(x!.data.subarray(r * width, (r + 1) * width), r * total + start);
      return [y];
    },
  },

  /** dx[r] = Σ_{t < times} dy[r·times + t], t ascending. */
  repeat_rows_grad: {
    arity: [1, 1],
    infer: ([dy], { times }) => {
      rank(dy!, 2, "repeated rows' gradient");
      const rows = divideDim(dy!.shape[0]!, times);
      expect(
        times >= 1 && rows !== undefined,
        `the rows of ${formatType(dy!)} are not a whole number of groups of ${times}`,
      );
      return [{ dtype: dy!.dtype, shape: [rows, dy!.shape[1]!] }];
    },
    cost: ([dy], [dx]) => ({ macs: 0, flops: dy![0]! * dy![1]!, bytes: bytesOf(dy!, dx!) }),
    evaluate: ([dy], { times }) => {
      const [n, cols] = dy!.shape as [number, number];
      const dx = tensor([n / times, cols]);
      for (let r = 0; r < n / times; r++)
        for (let t = 0; t < times; t++)
          for (let c = 0; c < cols; c++)
            dx.data[r * cols + c]! += dy!.data[(r * times + t) * cols + c]!;
      return [dx];
    },
  },

  /** y[r, 0] = Σ_c a[r, c] · b[r, c], c ascending. */
  row_dot: {
    arity: [2, 2],
    infer: ([a, b]) => {
      rank(a!, 2, "row_dot operand");
      float(a!, "row_dot operand");
      expect(
        shapeEquals(a!.shape, b!.shape) && a!.dtype === b!.dtype,
        `cannot take row-wise dot products of ${formatType(a!)} and ${formatType(b!)}: shapes must match`,
      );
      return [{ dtype: a!.dtype, shape: [a!.shape[0]!, 1] }];
    },
    cost: ([a, b], [y]) => ({ macs: 0, flops: 2 * numel(a!), bytes: bytesOf(a!, b!, y!) }),
    evaluate: ([a, b]) => {
      const [rows, cols] = a!.shape as [number, number];
      const y = tensor([rows, 1]);
      for (let r = 0; r < rows; r++) {
        let acc = 0;
        for (let c = 0; c < cols; c++) acc += a!.data[r * cols + c]! * b!.data[r * cols + c]!;
        y.data[r] = acc;
      }
      return [y];
    },
  },
};
