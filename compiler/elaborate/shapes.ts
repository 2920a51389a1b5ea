// Declared tensor types and shape unification: symbolic dims (T tokens) bind on first use and must
// agree afterwards.
import type { Expr, Span, TensorDecl } from "../../grammar/ast.js";
import { type Dim, type TensorType, dimEquals, formatType } from "../ir/types.js";
import { type Env, describe } from "../values.js";
import { type Elaborator, LIMITS } from "./context.js";
import { evalExpr } from "./expressions.js";
import { report } from "./report.js";

/** Evaluates a declared tensor type; unknown names are symbolic dims (bound in `symbols`). */
export function declaredType(
  el: Elaborator,
  decl: TensorDecl,
  env: Env,
  symbols: Map<string, Dim>,
  bindFresh: boolean,
): TensorType | undefined {
  if (decl.type.dtype !== "f32" && decl.type.dtype !== "i32") {
    el.bag.error(decl.type.span, `${decl.type.dtype} tensors are not supported yet; use f32`);
    return undefined;
  }
  const shape: Dim[] = [];
  for (const dimExpr of decl.type.dims) {
    const d = evalDim(el, dimExpr, env, symbols, bindFresh);
    if (d === undefined) return undefined;
    shape.push(d);
  }
  return { dtype: decl.type.dtype, shape };
}

export function evalDim(
  el: Elaborator,
  expr: Expr,
  env: Env,
  symbols: Map<string, Dim>,
  bindFresh: boolean,
): Dim | undefined {
  if (expr.kind === "Identifier" && !env.lookup(expr.name)) {
    if (!symbols.has(expr.name) && bindFresh) symbols.set(expr.name, { sym: expr.name, coef: 1 });
    return symbols.get(expr.name) ?? { sym: `?${expr.name}`, coef: 1 };
  }
  if (expr.kind === "Binary" && expr.op === "*") {
    const [symSide, numSide] =
      expr.left.kind === "Identifier" && !env.lookup(expr.left.name)
        ? [expr.left, expr.right]
        : [expr.right, expr.left];
    if (symSide.kind === "Identifier" && !env.lookup(symSide.name)) {
      const base = evalDim(el, symSide, env, symbols, bindFresh);
      const factor = evalExpr(el, numSide, env, "body");
      if (base === undefined || factor.kind !== "int") return undefined;
      return typeof base === "number"
        ? base * factor.value
        : { sym: base.sym, coef: base.coef * factor.value };
    }
  }
  const v = evalExpr(el, expr, env, "body");
  if (v.kind === "error") return undefined;
  if (v.kind !== "int" || v.value < 1) {
    report(el, expr.span, `a dimension must be a positive int or a symbol, got ${describe(v)}`);
    return undefined;
  }
  if (v.value > LIMITS.maxDim) {
    report(el, expr.span, `dimension ${v.value} exceeds the limit of ${LIMITS.maxDim}`);
    return undefined;
  }
  return v.value;
}

/** Matches an actual tensor type against a declaration, binding its symbolic dims. */
export function unify(
  el: Elaborator,
  decl: TensorDecl,
  actual: TensorType,
  env: Env,
  symbols: Map<string, Dim>,
  at: Span,
): boolean {
  const mismatch = () => {
    const declared = declaredType(el, decl, env, new Map(symbols), false);
    report(
      el,
      at,
      `'${decl.name.name}' expects ${declared ? formatType(declared) : "another type"}, got ${formatType(actual)}`,
      [{ message: `'${decl.name.name}' is declared here`, span: decl.span }],
    );
    return false;
  };
  if (decl.type.dtype !== actual.dtype || decl.type.dims.length !== actual.shape.length)
    return mismatch();
  for (const [i, dimExpr] of decl.type.dims.entries()) {
    const got = actual.shape[i]!;
    const free = freeSymbol(dimExpr, env);
    if (free && !symbols.has(free.name)) {
      // Bind the symbol so that coef * symbol == got.
      if (typeof got === "number") {
        if (got % free.coef !== 0) return mismatch();
        symbols.set(free.name, got / free.coef);
      } else {
        if (got.coef % free.coef !== 0) return mismatch();
        symbols.set(free.name, { sym: got.sym, coef: got.coef / free.coef });
      }
      continue;
    }
    const want = evalDim(el, dimExpr, env, symbols, false);
    if (want === undefined) return false;
    if (!dimEquals(want, got)) return mismatch();
  }
  return true;
}

export function freeSymbol(expr: Expr, env: Env): { name: string; coef: number } | undefined {
  if (expr.kind === "Identifier" && !env.lookup(expr.name)) return { name: expr.name, coef: 1 };
  if (expr.kind === "Binary" && expr.op === "*") {
    const [a, b] = [expr.left, expr.right];
    if (a.kind === "Identifier" && !env.lookup(a.name) && b.kind === "Int")
      return { name: a.name, coef: b.value };
    if (b.kind === "Identifier" && !env.lookup(b.name) && a.kind === "Int")
      return { name: b.name, coef: a.value };
  }
  return undefined;
}
