// Dimensions and dtypes as the plan stores them: concrete numbers or `coef * sym` of a symbol
// bound at run time (T tokens). The compiler's IR types re-export these (compiler/ir/types.ts).

/**
 * Element types. Two are packed (plan/bitnet.ts has the layouts): `i8`, int8 values four to a
 * u32 word, rows padded to whole 16-value blocks; `t2`, ternary weights 16 to a word after one
 * f32 scale per matrix. Shapes are always the logical ones ([rows, cols], not words).
 */
export type DType = "f32" | "f16" | "i32" | "i8" | "t2";

/** A symbolic dimension `coef * sym`, e.g. the T·h sub-tokens of an MH-MoE block. */
export interface SymDim {
  readonly sym: string;
  readonly coef: number;
}

export type Dim = number | SymDim;

/** Values for the symbols of a graph at run time, e.g. `{ T: 128 }`. */
export type DimBindings = Readonly<Record<string, number>>;

export function resolveDim(d: Dim, bindings: DimBindings): number {
  if (typeof d === "number") return d;
  const value = bindings[d.sym];
  if (value === undefined) throw new Error(`no value for dimension ${d.sym}`);
  return d.coef * value;
}

export function resolveShape(shape: readonly Dim[], bindings: DimBindings): number[] {
  return shape.map((d) => resolveDim(d, bindings));
}

export function formatDim(d: Dim): string {
  if (typeof d === "number") return String(d);
  return d.coef === 1 ? d.sym : `${d.sym}*${d.coef}`;
}

export function bytesPerElement(dtype: DType): number {
  return dtype === "f16" ? 2 : 4;
}
