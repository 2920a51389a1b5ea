// Sizes known only at run time: a product `coef * sym1 * sym2 ...` of the graph's symbols.
// Element counts, buffer bytes and dispatch sizes in the plan are SizeExprs.
import { type Dim, type DimBindings } from "../ir/types.js";

export interface SizeExpr {
  readonly coef: number;
  /** Symbols of the product, sorted, with repeats for powers. */
  readonly syms: readonly string[];
}

export function constantSize(n: number): SizeExpr {
  return { coef: n, syms: [] };
}

export function isConstantSize(s: SizeExpr): boolean {
  return s.syms.length === 0;
}

export function dimSize(d: Dim): SizeExpr {
  return typeof d === "number" ? constantSize(d) : { coef: d.coef, syms: [d.sym] };
}

export function mulSize(a: SizeExpr, b: SizeExpr | number): SizeExpr {
  const other = typeof b === "number" ? constantSize(b) : b;
  return { coef: a.coef * other.coef, syms: [...a.syms, ...other.syms].sort() };
}

/** Element count of a shape. */
export function shapeSize(shape: readonly Dim[]): SizeExpr {
  return shape.reduce<SizeExpr>((acc, d) => mulSize(acc, dimSize(d)), constantSize(1));
}

export function evalSize(s: SizeExpr, bindings: DimBindings): number {
  return s.syms.reduce((n, sym) => {
    const v = bindings[sym];
    if (v === undefined) throw new Error(`no value for dimension ${sym}`);
    return n * v;
  }, s.coef);
}

/** Sizes of the same symbols can be compared (and share a buffer) by their coefficients. */
export function sameSymbols(a: SizeExpr, b: SizeExpr): boolean {
  return a.syms.join("*") === b.syms.join("*");
}

export function formatSize(s: SizeExpr): string {
  if (s.syms.length === 0) return String(s.coef);
  return [...s.syms, ...(s.coef === 1 ? [] : [String(s.coef)])].join("*");
}
