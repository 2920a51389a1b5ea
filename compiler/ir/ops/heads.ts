// Views between tokens and sub-tokens (multi-head MoE): split a row into heads and join them back.
import { divideDim, formatDim, scaleDim } from "../types.js";
import type { OpFamily } from "./def.js";
import { expect, rank, tensor } from "./helpers.js";

export const HEAD_OPS: OpFamily<"split" | "join"> = {
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
    grad: ({ dOutputs: [dy], attrs, emit }) => [emit("join", [dy!], attrs)[0]],
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
    grad: ({ dOutputs: [dy], attrs, emit }) => [emit("split", [dy!], attrs)[0]],
  },
};
