// Tensor types of the IR: dtypes and dimensions that are concrete or symbolic.

export type DType = "f32" | "f16" | "i32";

/** A symbolic dimension `coef * sym`, e.g. the T·h sub-tokens of an MH-MoE block. */
export interface SymDim {
  readonly sym: string;
  readonly coef: number;
}

export type Dim = number | SymDim;

export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

/** Values for the symbols of a graph at run time, e.g. `{ T: 128 }`. */
export type DimBindings = Readonly<Record<string, number>>;

export function sym(name: string, coef = 1): SymDim {
  return { sym: name, coef };
}

export function dimEquals(a: Dim, b: Dim): boolean {
  if (typeof a === "number" || typeof b === "number") return a === b;
  return a.sym === b.sym && a.coef === b.coef;
}

export function shapeEquals(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEquals(d, b[i]!));
}

/** `coef * sym` scaled by an integer factor (positive), or a plain product. */
export function scaleDim(d: Dim, factor: number): Dim {
  return typeof d === "number" ? d * factor : { sym: d.sym, coef: d.coef * factor };
}

/** Divides a dimension exactly, or returns undefined when it does not divide. */
export function divideDim(d: Dim, divisor: number): Dim | undefined {
  if (typeof d === "number") return d % divisor === 0 ? d / divisor : undefined;
  return d.coef % divisor === 0 ? { sym: d.sym, coef: d.coef / divisor } : undefined;
}

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

export function formatType(t: TensorType): string {
  return `${t.dtype}[${t.shape.map(formatDim).join(", ")}]`;
}

export function symbolsOf(shape: readonly Dim[]): string[] {
  return shape.flatMap((d) => (typeof d === "number" ? [] : [d.sym]));
}

export function bytesPerElement(dtype: DType): number {
  return dtype === "f16" ? 2 : 4;
}

/** Product of the concrete dims; symbolic dims contribute their coefficient. */
export function staticElementCount(shape: readonly Dim[]): number {
  return shape.reduce<number>((n, d) => n * (typeof d === "number" ? d : d.coef), 1);
}
