// The CPU reference interpreter: runs an IR graph in float64 through the op table's semantics.
// It is the numeric oracle of every GPU test. It reads the IR, so it lives with the compiler.
import type { Graph } from "./graph.js";
import { OPS, type RefTensor } from "./ops.js";
import { tensor } from "./ops/helpers.js";
import { type DimBindings, formatType, resolveShape } from "./types.js";

export interface ReferenceResult {
  readonly outputs: ReadonlyMap<string, RefTensor>;
  /** Every value of the graph, by value id, for debugging and routing comparisons. */
  readonly values: readonly (RefTensor | undefined)[];
}

/**
 * `inputs` by model input name; `weights` by weight node name (stacked expert tensors under
 * their `{e}` name, experts along the first axis).
 */
export function runReference(
  graph: Graph,
  inputs: ReadonlyMap<string, RefTensor>,
  weights: ReadonlyMap<string, RefTensor>,
): ReferenceResult {
  const bindings = bindDims(graph, inputs);
  const values: (RefTensor | undefined)[] = new Array(graph.values.length);
  for (const node of graph.nodes) {
    if (node.op === "state") {
      // A state starts as zeros, like the runtime's fresh buffer; a run sees one session start.
      const type = graph.values[node.outputs[0]!]!.type;
      values[node.outputs[0]!] = tensor(resolveShape(type.shape, bindings));
      continue;
    }
    if (node.op === "input" || node.op === "weight") {
      const name = (node.attrs as { name: string }).name;
      const t = node.op === "input" ? inputs.get(name) : weights.get(name);
      if (!t) throw new Error(`no value for ${node.op} '${name}'`);
      values[node.outputs[0]!] = t;
      continue;
    }
    const evaluate = OPS[node.op].evaluate as (i: RefTensor[], a: unknown) => RefTensor[];
    const outs = evaluate(
      node.inputs.map((v) => values[v]!),
      node.attrs,
    );
    outs.forEach((t, k) => {
      const expected = resolveShape(graph.values[node.outputs[k]!]!.type.shape, bindings);
      if (expected.join() !== t.shape.join()) {
        throw new Error(
          `reference ${node.op} produced [${t.shape.join(", ")}], IR says [${expected.join(", ")}]`,
        );
      }
      values[node.outputs[k]!] = t;
    });
  }
  return { outputs: new Map(graph.outputs.map((o) => [o.name, values[o.value]!])), values };
}

/** Binds the graph's symbolic dims from the actual input shapes (T from x: f32[T, d], ...). */
export function bindDims(
  graph: Graph,
  inputs: ReadonlyMap<string, { readonly shape: readonly number[] }>,
): DimBindings {
  const bindings: Record<string, number> = {};
  for (const input of graph.inputs) {
    const t = inputs.get(input.name);
    const type = graph.values[input.value]!.type;
    if (!t) throw new Error(`missing input '${input.name}' (${formatType(type)})`);
    if (t.shape.length !== type.shape.length) {
      throw new Error(
        `input '${input.name}' must be ${formatType(type)}, got shape [${t.shape.join(", ")}]`,
      );
    }
    type.shape.forEach((d, i) => {
      const actual = t.shape[i]!;
      if (typeof d === "number") {
        if (d !== actual)
          throw new Error(
            `input '${input.name}' must be ${formatType(type)}, got shape [${t.shape.join(", ")}]`,
          );
      } else {
        if (actual % d.coef !== 0 || actual < 1)
          throw new Error(
            `input '${input.name}': dimension ${i} must be a positive multiple of ${d.coef}`,
          );
        const value = actual / d.coef;
        if (bindings[d.sym] !== undefined && bindings[d.sym] !== value) {
          throw new Error(
            `input '${input.name}': ${d.sym} = ${value} disagrees with ${d.sym} = ${bindings[d.sym]} of an earlier input`,
          );
        }
        bindings[d.sym] = value;
      }
    });
  }
  return bindings;
}
