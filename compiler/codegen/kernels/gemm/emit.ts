// The tiled GEMM emitter: one loop for every GEMM of the -O2 kernels (dense linear, gated pair,
// combine+merge, the grouped expert GEMMs); callers say where A's rows come from and what is stored.
//
// Every GEMM here (dense linear, gated pair, combine+merge, the grouped expert GEMMs) is one
// tiled loop, emitGemm: a workgroup computes a tile of `tm` rows by `wg·tn` columns, every
// invocation the same tm rows and its own tn columns, with tm·tn accumulators in registers.
// Operands are loaded as vec4 (or vec2) along K when K allows. Why this shape, measured on
// lavapipe (llvmpipe, 8 invocations per SIMD vector): a storage load whose address is not a
// constant is executed lane by lane (bounds check, scalar load and insert per lane), and costs
// about the same whatever it loads, so the kernel is bound by load *instructions* per
// invocation, not by multiply-adds; vec4 loads carry 4 elements for about the price of one.
// With subgroups, the tile's rows of A are loaded once per subgroup, `share` rows per load
// instruction (lane l loads row l), and handed to every lane with subgroupBroadcast (a register
// shuffle): per K step an invocation issues tm/share + tn loads for 4·tm·tn multiply-adds.
// Invocations own adjacent columns and store them as one vector. Loops and branches around the
// product are avoided where possible (lavapipe masks every assignment inside them): the grouped
// GEMMs find their expert segment with a branchless binary search and make one pass per tile.
// The dispatch is exact: ceil(rows / tm) row tiles per column block (SizeExpr tile counts).
// Measured with `moec bench` and bench/suite.ts (results in bench/RESULTS.md).
import type { KernelWriter } from "../common.js";
import { f32Literal as f, u32Literal as u } from "../../wgsl.js";
import { type GemmConfig, storeWidth } from "./tiling.js";

/** One GEMM inside a tile: where A's rows come from, the weights, and the stores. */
interface GemmBody {
  readonly out: number;
  readonly inner: number;
  /**
   * The key of tile row `r` (a WGSL u32 expression that may differ per invocation), read once per
   * tile: the token row of a dense GEMM, the assignment of a grouped one. Clamped to a valid row.
   */
  readonly key: (r: string) => string;
  /** Whether the stores need the key (grouped rows) or know their row without it (dense). */
  readonly storesUseKey: boolean;
  /** A's row index from a key. */
  readonly source: (key: string) => string;
  /** The vector (or scalar) of A at source row `src`, K-vector index `kv`. */
  readonly a: (src: string, kv: string) => string;
  /** Per weight matrix: the vector of W at (clamped) column `col`, K-vector index `kv`. */
  readonly b: readonly ((col: string, kv: string) => string)[];
  /** Wraps the stores of tile row r (a constant; `key` its key), e.g. in a bounds check. */
  readonly row: (r: number, key: string, stores: () => void) => void;
  /** The output binding (vectors of storeWidth elements when that is above 1). */
  readonly output: string;
  /** The element index of the row's first output column (`col` is added). */
  readonly target: (r: number, key: string) => string;
  /** The value of output (r, c) of the tile given each weight matrix's accumulator. */
  readonly value: (r: number, c: number, acc: readonly string[]) => string;
  /** Further outputs of the same shape, stored at the same places (a backward pair). */
  readonly moreOutputs?: readonly GemmStore[];
}

/** An output binding and the value stored at tile element (r, c). */
export interface GemmStore {
  readonly output: string;
  readonly value: (r: number, c: number, acc: readonly string[]) => string;
}

export const vectorType = (vec: number) => (vec === 1 ? "f32" : `vec${vec}<f32>`);
export const COMPONENTS = ["x", "y", "z", "w"];

/** acc + a·b over the `vec` components of two vectors, as a chain of fma. */
export function vectorFma(vec: number, a: string, b: string, acc: string): string {
  let e = acc;
  for (let i = 0; i < vec; i++) {
    const c = vec === 1 ? "" : `.${COMPONENTS[i]}`;
    e = `fma(${a}${c}, ${b}${c}, ${e})`;
  }
  return e;
}

/** Binds a GEMM's output, as vectors of storeWidth elements where that is above 1. */
export function gemmOutput(w: KernelWriter, name: string, value: number, width: number): string {
  return width === 1 ? w.output(name, value) : w.outputVec(name, value, width as 2 | 4);
}

/**
 * The tile product and its stores. Expects `cb` (the column block), `lid` and, with sharing,
 * `sg_id` and `sg_size` in scope; the caller emits the tile's uniform setup (rows, expert).
 * Invocation lid owns columns cb·wg·tn + lid·tn + c, c < tn.
 */
export function emitGemm(w: KernelWriter, cfg: GemmConfig, g: GemmBody): void {
  const { tm, tn, wg, vec, share } = cfg;
  const kv = g.inner / vec;
  const block = wg * tn;
  const ragged = g.out % block !== 0;
  const sw = storeWidth(cfg, g.out);
  for (let c = 0; c < tn; c++) {
    w.b.line(`let col${c} = cb * ${u(block)} + lid * ${u(tn)} + ${u(c)};`);
    w.b.line(`let wc${c} = ${ragged ? `min(col${c}, ${u(g.out - 1)})` : `col${c}`};`);
  }
  const weights = g.b.length;
  const fma = (a: string, b: string, acc: string) => vectorFma(vec, a, b, acc);
  const tile = (shared: boolean) => {
    // Keys: one per invocation and load group when shared (row j·share + lane), else every row's.
    const keys = shared ? tm / share : tm;
    for (let j = 0; j < keys; j++) {
      const r = shared ? `${u(j * share)} + sg_id % ${u(share)}` : u(j);
      w.b.line(`let key${j} = ${g.key(r)};`);
      w.b.line(`let src${j} = ${g.source(`key${j}`)};`);
    }
    for (let m = 0; m < weights; m++)
      for (let r = 0; r < tm; r++)
        for (let c = 0; c < tn; c++) w.b.line(`var acc${m}_${r}_${c} = ${f(0)};`);
    w.b.block(`for (var kv = 0u; kv < ${u(kv)}; kv++)`, () => {
      if (shared) {
        for (let j = 0; j < keys; j++) w.b.line(`let l${j} = ${g.a(`src${j}`, "kv")};`);
      }
      for (let m = 0; m < weights; m++)
        for (let c = 0; c < tn; c++) w.b.line(`let b${m}_${c} = ${g.b[m]!(`wc${c}`, "kv")};`);
      for (let r = 0; r < tm; r++) {
        const a = shared
          ? `subgroupBroadcast(l${Math.floor(r / share)}, ${u(r % share)})`
          : g.a(`src${r}`, "kv");
        w.b.line(`let a${r} = ${a};`);
        for (let m = 0; m < weights; m++)
          for (let c = 0; c < tn; c++)
            w.b.line(`acc${m}_${r}_${c} = ${fma(`a${r}`, `b${m}_${c}`, `acc${m}_${r}_${c}`)};`);
      }
    });
    for (let r = 0; r < tm; r++) {
      let key = `key${r}`;
      if (shared && g.storesUseKey) {
        w.b.line(
          `let row_key${r} = subgroupBroadcast(key${Math.floor(r / share)}, ${u(r % share)});`,
        );
        key = `row_key${r}`;
      }
      g.row(r, key, () => {
        const target = g.target(r, key);
        for (const store of [{ output: g.output, value: g.value }, ...(g.moreOutputs ?? [])]) {
          const values = Array.from({ length: tn }, (_, c) =>
            store.value(
              r,
              c,
              g.b.map((__, m) => `acc${m}_${r}_${c}`),
            ),
          );
          const stores =
            sw > 1
              ? [
                  `${store.output}[(${target} + col0) / ${u(sw)}] = vec${sw}<f32>(${values.join(", ")});`,
                ]
              : values.map((v, c) => `${store.output}[${target} + col${c}] = ${v};`);
          const guard = (c: number, line: string) =>
            ragged ? w.b.block(`if (col${c} < ${u(g.out)})`, () => w.b.line(line)) : w.b.line(line);
          stores.forEach((line, c) => guard(c, line));
        }
      });
    }
  };
  if (share > 0)
    w.b.ifElse(
      `sg_size >= ${u(share)}`,
      () => tile(true),
      () => tile(false),
    );
  else tile(false);
}

/** Binds a GEMM operand as vectors of `vec` (or plain f32) and returns its name. */
export function operand(w: KernelWriter, name: string, value: number, vec: number): string {
  return vec === 1 ? w.input(name, value) : w.inputVec(name, value, vec as 2 | 4);
}
