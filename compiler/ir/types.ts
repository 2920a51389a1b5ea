// Tensor types of the IR: dtypes and dimensions that are concrete or symbolic. Dims and dtypes
// are the plan's own (plan/dims.ts), so the runtime reads them without the compiler.
import { type DType, type Dim, type SymDim, formatDim } from "../../plan/dims.js";

export {
  type DType,
  type Dim,
  type DimBindings,
  type SymDim,
  bytesPerElement,
  formatDim,
  resolveDim,
  resolveShape,
} from "../../plan/dims.js";

export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

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

export function formatType(t: TensorType): string {
  return `${t.dtype}[${t.shape.map(formatDim).join(", ")}]`;
}

export function symbolsOf(shape: readonly Dim[]): string[] {
  return shape.flatMap((d) => (typeof d === "number" ? [] : [d.sym]));
}
