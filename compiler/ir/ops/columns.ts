// Column surgery on row-major matrices, for attention layouts that are not one block per head
// (DeepSeek's multi-head latent attention): take a band of columns, put two side by side, and
// repeat each row for every head.
import { formatType, scaleDim, shapeEquals } from "../types.js";
import type { OpFamily } from "./def.js";
import { bytesOf, expect, numel, rank, tensor } from "./helpers.js";

const copyCost = (_: readonly number[][], [y]: readonly number[][]) => ({
  macs: 0,
  flops: 0,
  bytes: 2 * bytesOf(y!),
});

export const COLUMN_OPS: OpFamily<"slice_cols" | "concat_cols" | "repeat_rows"> = {
  /** y = x[:, start : start + width]. */
  slice_cols: {
    arity: [1, 1],
    infer: ([x], { start, width }) => {
      rank(x!, 2, "sliced matrix");
      const cols = x!.shape[1]!;
      expect(
        typeof cols === "number" && start >= 0 && width >= 1 && start + width <= cols,
        `cannot take columns ${start}..${start + width} of ${formatType(x!)}`,
      );
      return [{ dtype: x!.dtype, shape: [x!.shape[0]!, width] }];
    },
    cost: copyCost,
    evaluate: ([x], { start, width }) => {
      const [rows, cols] = x!.shape as [number, number];
      const y = tensor([rows, width]);
      for (let r = 0; r < rows; r++)
        y.data.set(x!.data.subarray(r * cols + start, r * cols + start + width), r * width);
      return [y];
    },
    grad: ({ inputs: [x], dOutputs: [dy], attrs: { start }, type, emit }) => [
      emit("pad_cols", [dy!], { start, total: type(x!).shape[1] as number })[0],
    ],
  },

  /** y = [a | b]: the columns of a, then those of b, row by row. */
  concat_cols: {
    arity: [2, 2],
    infer: ([a, b]) => {
      rank(a!, 2, "left matrix");
      rank(b!, 2, "right matrix");
      const [ca, cb] = [a!.shape[1]!, b!.shape[1]!];
      expect(
        shapeEquals(a!.shape.slice(0, 1), b!.shape.slice(0, 1)) &&
          a!.dtype === b!.dtype &&
          typeof ca === "number" &&
          typeof cb === "number",
        `cannot put ${formatType(a!)} and ${formatType(b!)} side by side: rows must match`,
      );
      return [{ dtype: a!.dtype, shape: [a!.shape[0]!, (ca as number) + (cb as number)] }];
    },
    cost: copyCost,
    evaluate: ([a, b]) => {
      const [rows, ca] = a!.shape as [number, number];
      const cb = b!.shape[1]!;
      const y = tensor([rows, ca + cb]);
      for (let r = 0; r < rows; r++) {
        y.data.set(a!.data.subarray(r * ca, (r + 1) * ca), r * (ca + cb));
        y.data.set(b!.data.subarray(r * cb, (r + 1) * cb), r * (ca + cb) + ca);
      }
      return [y];
    },
    grad: ({ inputs: [a, b], dOutputs: [dy], needs, type, emit }) => {
      const [ca, cb] = [a!, b!].map((v) => type(v).shape[1] as number);
      return [
        needs[0] ? emit("slice_cols", [dy!], { start: 0, width: ca! })[0] : undefined,
        needs[1] ? emit("slice_cols", [dy!], { start: ca!, width: cb! })[0] : undefined,
      ];
    },
  },

  /** Row r of x becomes rows r·times .. r·times + times - 1 (one shared key per head). */
  repeat_rows: {
    arity: [1, 1],
    infer: ([x], { times }) => {
      rank(x!, 2, "repeated matrix");
      expect(times >= 1, `rows must repeat at least once, got ${times}`);
      return [{ dtype: x!.dtype, shape: [scaleDim(x!.shape[0]!, times), x!.shape[1]!] }];
    },
    cost: copyCost,
    evaluate: ([x], { times }) => {
      const cols = x!.shape[1]!;
      const y = tensor([x!.shape[0]! * times, cols]);
      for (let i = 0; i < numel(y.shape); i++)
        y.data[i] = x!.data[Math.floor(i / (cols * times)) * cols + (i % cols)]!;
      return [y];
    },
    grad: ({ dOutputs: [dy], attrs, emit }) => [emit("repeat_rows_grad", [dy!], attrs)[0]],
  },
};
