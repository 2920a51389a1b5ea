// Inputs of a run: names, dtypes and shapes checked against the plan, the symbols (T) bound
// from the shapes, token ids range-checked; and the uniform's runtime parameters for those dims.
// Browser-safe.
import { expertCapacity } from "../plan/capacity.js";
import { type DimBindings, formatDim } from "../plan/dims.js";
import type { Plan } from "../plan/format.js";
import { evalSize } from "../plan/size.js";
import { MoecRunError } from "./errors.js";

export interface TensorData {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** Checks names, dtypes and shapes of the inputs, binds the symbols, range-checks token ids. */
export function bindInputs(plan: Plan, inputs: ReadonlyMap<string, TensorData>): DimBindings {
  const known = new Set(plan.inputs.map((i) => i.name));
  const unknown = [...inputs.keys()].filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new MoecRunError(
      `unknown input ${unknown.map((n) => `'${n}'`).join(", ")}; ${plan.name} takes ${describeInputs(plan)}`,
    );
  }
  const dims: Record<string, number> = {};
  for (const input of plan.inputs) {
    const t = inputs.get(input.name);
    const expected = `${input.dtype}[${input.shape.map(formatDim).join(", ")}]`;
    if (!t) throw new MoecRunError(`missing input '${input.name}': ${expected}`);
    const arrayType = input.dtype === "i32" ? Int32Array : Float32Array;
    if (!(t.data instanceof arrayType)) {
      throw new MoecRunError(
        `input '${input.name}' must be ${expected} as a ${arrayType.name}, got a ${t.data.constructor.name}`,
      );
    }
    const bad = () =>
      new MoecRunError(
        `input '${input.name}' must be ${expected}, got shape [${t.shape.join(", ")}]`,
      );
    if (t.shape.length !== input.shape.length) throw bad();
    input.shape.forEach((d, i) => {
      const actual = t.shape[i]!;
      if (!Number.isInteger(actual) || (actual < 1 && typeof d === "number")) throw bad();
      if (actual < 1) {
        throw new MoecRunError(
          `input '${input.name}' has shape [${t.shape.join(", ")}]: ${formatDim(d)} must be at least 1`,
        );
      }
      if (typeof d === "number") {
        if (d !== actual) throw bad();
        return;
      }
      if (actual % d.coef !== 0) throw bad();
      const value = actual / d.coef;
      if (dims[d.sym] !== undefined && dims[d.sym] !== value) {
        throw new MoecRunError(
          `input '${input.name}': ${d.sym} = ${value} disagrees with ${d.sym} = ${dims[d.sym]} from another input`,
        );
      }
      dims[d.sym] = value;
    });
    const count = t.shape.reduce((a, c) => a * c, 1);
    if (t.data.length !== count) {
      throw new MoecRunError(
        `input '${input.name}' has ${t.data.length} values for shape [${t.shape.join(", ")}] (${count})`,
      );
    }
    if (input.idLimit !== undefined) {
      const limit = input.idLimit;
      const at = t.data.findIndex((id) => !(id >= 0 && id < limit));
      if (at >= 0) {
        throw new MoecRunError(
          input.idKind === "positions"
            ? `position ${t.data[at]} at index ${at} of input '${input.name}' is outside the KV cache's ${limit} positions [0, ${limit})`
            : `token id ${t.data[at]} at position ${at} of input '${input.name}' is outside the vocabulary [0, ${limit})`,
        );
      }
    }
  }
  return dims;
}

function describeInputs(plan: Plan): string {
  return plan.inputs.map((i) => `'${i.name}'`).join(", ") || "no inputs";
}

export function checkWantedValues(plan: Plan, values: readonly number[]): number[] {
  for (const v of values) {
    const entry = plan.values[v];
    if (!entry) throw new MoecRunError(`no value %${v} in plan ${plan.name}`);
    if (!entry.kept) {
      throw new MoecRunError(
        `value %${v} is overwritten during the run; build the plan with keep: [${v}] to read it`,
      );
    }
  }
  return [...values];
}

export function paramValues(plan: Plan, dims: DimBindings): Uint32Array {
  const out = new Uint32Array(Math.max(4, Math.ceil(plan.params.length / 4) * 4));
  plan.params.forEach((p, i) => {
    const value =
      p.kind === "symbol"
        ? dims[p.symbol]!
        : expertCapacity(p.limit, evalSize(p.rows, dims), p.topK, p.experts);
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) {
      throw new MoecRunError(`runtime parameter ${p.field} = ${value} does not fit a u32`);
    }
    out[i] = value;
  });
  return out;
}
