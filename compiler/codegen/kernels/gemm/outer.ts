// Weight gradients as sums of outer products, dW = Σ_p d[row p] ⊗ x[row p]: over all rows (a
// dense linear) or over an expert's segment of the sorted assignments (the grouped GEMMs). The
// reduced dimension is the rows, so instead of the tiled product (gemm/emit.ts, which reduces
// along contiguous K) each invocation owns a block of dW, a vector's worth of output rows by up
// to four vectors of columns, and accumulates it in registers over the positions in order: per
// position one vector load of d and up to four of x for up to 64 multiply-adds. The order is
// fixed and there are no atomics, so two runs give bitwise-identical gradients.
import { constantSize } from "../../../../plan/size.js";
import { f32Literal as f, u32Literal as u } from "../../wgsl.js";
import { type KernelWriter, staticDim } from "../common.js";
import { COMPONENTS, vectorType } from "./emit.js";
import { vectorWidth } from "./tiling.js";

export interface OuterProductSum {
  /** Rows of x [.., in], of d [.., out], and the gradient dW [matrices, out, in] or [out, in]. */
  readonly x: number;
  readonly d: number;
  readonly dw: number;
  /** Matrices in dW (experts; 1 for a dense weight); the invocation's matrix is `e`. */
  readonly matrices: number;
  /** The for-loop header over the positions `p` summed into matrix `e`. */
  readonly positions: string;
  /** Lines at the top of each position (e.g. `let a = order[p];`), then d's and x's row. */
  readonly prelude?: string;
  readonly dRow: string;
  readonly xRow: string;
}

export function emitOuterProductSum(w: KernelWriter, s: OuterProductSum): void {
  const shape = w.type(s.dw).shape.map((d) => staticDim(d, "weight dims"));
  const [out, inn] = shape.slice(-2) as [number, number];
  const rv = vectorWidth([out]);
  const cv = vectorWidth([inn]);
  const nc = [4, 2, 1].find((n) => inn % (cv * n) === 0)!;
  const x = cv === 1 ? w.input("x", s.x) : w.inputVec("x", s.x, cv);
  const d = rv === 1 ? w.input("d", s.d) : w.inputVec("d", s.d, rv);
  const dw = cv === 1 ? w.output("dw", s.dw) : w.outputVec("dw", s.dw, cv);
  const rowBlocks = out / rv;
  const colBlocks = inn / (cv * nc);
  const [I, C] = [u(inn / cv), u(colBlocks)];
  const component = (r: number) => (rv === 1 ? "dv" : `dv.${COMPONENTS[r]}`);
  const splat = (e: string) => (cv === 1 ? e : `${vectorType(cv)}(${e})`);
  w.perItem(constantSize(s.matrices * rowBlocks * colBlocks), (i) => {
    w.b.line(`let e = ${i} / ${u(rowBlocks * colBlocks)};`);
    w.b.line(`let o0 = ((${i} / ${C}) % ${u(rowBlocks)}) * ${u(rv)};`);
    w.b.line(`let c0 = (${i} % ${C}) * ${u(nc)};`);
    for (let r = 0; r < rv; r++)
      for (let j = 0; j < nc; j++) w.b.line(`var acc${r}_${j} = ${splat(f(0))};`);
    w.b.block(s.positions, () => {
      if (s.prelude) w.b.line(s.prelude);
      w.b.line(`let dv = ${d}[(${s.dRow} * ${u(out)} + o0) / ${u(rv)}];`);
      w.b.line(`let src = ${s.xRow} * ${I} + c0;`);
      for (let j = 0; j < nc; j++) w.b.line(`let x${j} = ${x}[src + ${u(j)}];`);
      for (let r = 0; r < rv; r++)
        for (let j = 0; j < nc; j++)
          w.b.line(`acc${r}_${j} = fma(${splat(component(r))}, x${j}, acc${r}_${j});`);
    });
    for (let r = 0; r < rv; r++) {
      w.b.line(`let row${r} = (e * ${u(out)} + o0 + ${u(r)}) * ${I} + c0;`);
      for (let j = 0; j < nc; j++) w.b.line(`${dw}[row${r} + ${u(j)}] = acc${r}_${j};`);
    }
  });
}

/**
 * The B operand of a tiled product that reads W [out, in] transposed (dX = dY·W): the K-vector
 * `kk` at column `col` gathers `vec` elements down a column, from the matrix at row `base`.
 */
export function transposedWeight(weight: string, base: string, width: number, vec: number) {
  const element = (col: string, kk: string, j: number) =>
    `${weight}[(${base} + ${kk} * ${u(vec)} + ${u(j)}) * ${u(width)} + ${col}]`;
  return (col: string, kk: string): string =>
    vec === 1
      ? element(col, kk, 0)
      : `${vectorType(vec)}(${Array.from({ length: vec }, (_, j) => element(col, kk, j)).join(", ")})`;
}
