// Inputs for `moec run` without a safetensors file: `--tokens N` makes random inputs of the
// model's declared shapes (symbolic dimensions such as T bound to N), `--ids 1,2,3` gives a
// language model its token ids (checked against the vocabulary of the embedding they feed).
import type { Graph } from "../compiler/ir/graph.js";
import { createRng, randomTensor } from "../runtime/random.js";
import type { TensorData } from "../runtime/session.js";

export class InputsError extends Error {}

/** The vocabulary size of the embedding an i32 input feeds; undefined when none. */
export function vocabularyOf(graph: Graph, input: { value: number }): number | undefined {
  const embedding = graph.nodes.find((n) => n.op === "embedding" && n.inputs[0] === input.value);
  const table = embedding && graph.values[embedding.inputs[1]!]!.type.shape[0];
  return typeof table === "number" ? table : undefined;
}

function describeInputs(graph: Graph): string {
  return graph.inputs
    .map((i) => {
      const t = graph.values[i.value]!.type;
      const dims = t.shape.map((d) =>
        typeof d === "number" ? d : `${d.coef === 1 ? "" : `${d.coef}*`}${d.sym}`,
      );
      return `${i.name}: ${t.dtype}[${dims.join(", ")}]`;
    })
    .join(", ");
}

/**
 * Random inputs for `tokens` tokens: float inputs uniform in (-1, 1) without zeros (stream
 * seed + 1 + input index), token ids uniform over the vocabulary (stream 1000 + input index).
 * `ids`, when given, are the token ids of the model's one id input (their count is the T).
 */
export function randomInputs(
  graph: Graph,
  tokens: number,
  seed: number,
  ids?: readonly number[],
): Map<string, TensorData> {
  const idInputs = graph.inputs.filter((i) => graph.values[i.value]!.type.dtype === "i32");
  if (ids && idInputs.length !== 1)
    throw new InputsError(
      idInputs.length === 0
        ? `--ids is for language models, whose input is token ids; this model's inputs are ${describeInputs(graph)}: use --tokens N`
        : `--ids fills one token-id input; this model has ${idInputs.length} (${describeInputs(graph)}): use --input FILE`,
    );
  const inputs = new Map<string, TensorData>();
  graph.inputs.forEach((input, i) => {
    const type = graph.values[input.value]!.type;
    const shape = type.shape.map((d) => (typeof d === "number" ? d : d.coef * tokens));
    const count = shape.reduce((a, b) => a * b, 1);
    if (type.dtype !== "i32") {
      inputs.set(input.name, { shape, data: randomTensor(shape, seed + 1 + i) });
      return;
    }
    const vocab = vocabularyOf(graph, input);
    if (ids) {
      if (count !== ids.length)
        throw new InputsError(
          `--ids gives ${ids.length} ids but input ${input.name} holds ${count} for that many tokens`,
        );
      ids.forEach((id, at) => {
        if (vocab !== undefined && id >= vocab)
          throw new InputsError(
            `--ids: id ${id} (position ${at + 1}) is outside the vocabulary of ${vocab} tokens (0..${vocab - 1})`,
          );
      });
      inputs.set(input.name, { shape, data: Int32Array.from(ids) });
      return;
    }
    if (vocab === undefined)
      throw new InputsError(
        `input ${input.name} holds integers that feed no embedding, so their range is unknown: use --ids or --input FILE`,
      );
    const rng = createRng(seed, 1000 + i);
    inputs.set(input.name, {
      shape,
      data: Int32Array.from({ length: count }, () => rng.nextUint32() % vocab),
    });
  });
  return inputs;
}

/** `1,2, 3` -> [1, 2, 3]; each a decimal integer >= 0 (a message names the first bad one). */
export function parseIds(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.length === 0 || parts.every((p) => p === ""))
    throw new InputsError("--ids needs a comma-separated list of token ids, e.g. --ids 1,2,3");
  return parts.map((p, i) => {
    if (!/^\d+$/.test(p) || !Number.isSafeInteger(Number(p)) || Number(p) >= 2 ** 31)
      throw new InputsError(
        `--ids: '${p}' (position ${i + 1}) is not a token id (a whole number from 0)`,
      );
    return Number(p);
  });
}
