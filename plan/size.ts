// Sizes known only at run time: a product `coef * sym1 * sym2 ...` of the graph's symbols.
// Element counts, buffer bytes and dispatch sizes in the plan are SizeExprs.
import { type Dim, type DimBindings } from "./dims.js";

export interface SizeExpr {
  readonly coef: number;
  /** Symbols of the product, sorted, with repeats for powers. */
  readonly syms: readonly string[];
  /**
   * A tile count instead of the product P = coef * syms: (ceil(P / div) + add) * mul, and 0 when
   * P is 0. Only dispatch sizes carry it (see tileCount); element counts and buffer bytes never do.
   */
  readonly tiles?: TileCount;
}

export interface TileCount {
  readonly div: number;
  readonly add: number;
  readonly mul: number;
}

export function constantSize(n: number): SizeExpr {
  return { coef: n, syms: [] };
}

export function isConstantSize(s: SizeExpr): boolean {
  return s.syms.length === 0 && s.tiles === undefined;
}

/**
 * (ceil(s / div) + add) * mul: how many tiles of `div` rows cover s rows, plus `add` spare tiles,
 * times `mul` column blocks. Exact, so a tiled kernel's dispatch need not overshoot. A constant
 * s folds to a constant.
 */
export function tileCount(s: SizeExpr, div: number, add = 0, mul = 1): SizeExpr {
  if (s.tiles) throw new Error("tileCount of a tile count");
  if (!(Number.isInteger(div) && div >= 1 && Number.isInteger(add) && add >= 0)) {
    throw new Error(`bad tile count: div ${div}, add ${add}`);
  }
  if (s.syms.length === 0) {
    return constantSize(s.coef === 0 ? 0 : (Math.ceil(s.coef / div) + add) * mul);
  }
  if (div === 1) {
    // ceil(P / 1) = P: stay a plain product when nothing is added.
    if (add === 0) return mulSize(s, mul);
  }
  return { coef: s.coef, syms: s.syms, tiles: { div, add, mul } };
}

export function dimSize(d: Dim): SizeExpr {
  return typeof d === "number" ? constantSize(d) : { coef: d.coef, syms: [d.sym] };
}

export function mulSize(a: SizeExpr, b: SizeExpr | number): SizeExpr {
  const other = typeof b === "number" ? constantSize(b) : b;
  if (a.tiles || other.tiles) {
    // A tile count times a constant scales its column blocks; anything else has no closed form.
    const [t, c] = a.tiles ? [a, other] : [other, a];
    if (c.tiles || c.syms.length > 0)
      throw new Error("product of a tile count and a symbolic size");
    return { coef: t.coef, syms: t.syms, tiles: { ...t.tiles!, mul: t.tiles!.mul * c.coef } };
  }
  return { coef: a.coef * other.coef, syms: [...a.syms, ...other.syms].sort() };
}

/** Element count of a shape. */
export function shapeSize(shape: readonly Dim[]): SizeExpr {
  return shape.reduce<SizeExpr>((acc, d) => mulSize(acc, dimSize(d)), constantSize(1));
}

export function evalSize(s: SizeExpr, bindings: DimBindings): number {
  const product = s.syms.reduce((n, sym) => {
    const v = bindings[sym];
    if (v === undefined) throw new Error(`no value for dimension ${sym}`);
    return n * v;
  }, s.coef);
  if (!s.tiles || product === 0) return product;
  const { div, add, mul } = s.tiles;
  return (Math.ceil(product / div) + add) * mul;
}

/** Sizes of the same symbols can be compared (and share a buffer) by their coefficients. */
export function sameSymbols(a: SizeExpr, b: SizeExpr): boolean {
  return a.syms.join("*") === b.syms.join("*") && !a.tiles && !b.tiles;
}

export function formatSize(s: SizeExpr): string {
  const product =
    s.syms.length === 0
      ? String(s.coef)
      : [...s.syms, ...(s.coef === 1 ? [] : [String(s.coef)])].join("*");
  if (!s.tiles) return product;
  const { div, add, mul } = s.tiles;
  const tiles = `ceil(${product}/${div})${add > 0 ? `+${add}` : ""}`;
  return mul === 1 ? tiles : `(${tiles})*${mul}`;
}
