// Graph leaves and dense ops: inputs, weights, linear layers and embeddings.
import { formatDim, formatType } from "../types.js";
import type { OpFamily } from "./def.js";
import { bytesOf, expect, float, last, numel, rank, rows, sameDim, tensor } from "./helpers.js";

export const DENSE_OPS: OpFamily<"input" | "weight" | "linear" | "embedding"> = {
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
    grad: ({ inputs: [x, w, b], dOutputs: [dy], needs, emit }) => [
      needs[0] ? emit("linear_grad_input", [dy!, w!], {})[0] : undefined,
      needs[1] ? emit("linear_grad_weight", [x!, dy!], {})[0] : undefined,
      b !== undefined && needs[2] ? emit("sum_rows", [dy!], {})[0] : undefined,
    ],
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
    grad: ({ inputs: [ids, w], dOutputs: [dy], type, emit }) => [
      undefined,
      emit("embedding_grad", [ids!, dy!], { vocab: type(w!).shape[0] as number })[0],
    ],
  },
};
