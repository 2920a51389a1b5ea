// Kernels of the optimiser's fused ops (design.md section 6), and the tiled GEMMs that replace
// the -O0 linear at -O2.
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
import type { Node } from "../../ir/graph.js";
import type { Activation } from "../../ir/ops.js";
import type { DeviceProfile } from "../profile.js";
import { type SizeExpr, constantSize, dimSize, shapeSize, tileCount } from "../size.js";
import { f32Literal as f, i32Literal as i32, sizeToWgsl, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, PARAMS, staticDim } from "./common.js";
import { activationFunction } from "./math.js";

// ---------------------------------------------------------------------------------------------
// GEMM tiling

/** How a GEMM is tiled (chooseGemm picks one from the device profile and the shape). */
export interface GemmConfig {
  /** Rows of a tile; every invocation of the workgroup works on the same rows. */
  readonly tm: number;
  /** Columns per invocation, strided by the workgroup size: a tile is tm x wg·tn outputs. */
  readonly tn: number;
  /** Invocations per workgroup. */
  readonly wg: number;
  /** Elements per load along K: 4 (vec4) when K % 4 == 0, 2 when K is even, else 1. */
  readonly vec: 1 | 2 | 4;
  /**
   * Subgroup sharing of A: rows are loaded `share` at a time, one per lane, and broadcast (0: no
   * subgroups; every invocation loads every row). Kernels check subgroup_size at run time and
   * take the unshared loop on subgroups smaller than `share`.
   */
  readonly share: 0 | 4 | 8;
}

/** What chooseGemm needs to know about a GEMM. */
export interface GemmShape {
  /** Columns (output features). */
  readonly out: number;
  /** K: the reduced dimension. */
  readonly inner: number;
  /** Weight matrices read per output: 2 for a gated pair (two accumulators per output). */
  readonly weights: number;
  /** Every width a vector load must divide (K, and a sub-token width where rows are joined). */
  readonly align?: readonly number[];
}

/** Picks the GEMM tiling for a device profile and shape; options of the kernel table may override it. */
export type GemmChooser = (profile: DeviceProfile, shape: GemmShape) => GemmConfig;

/** Largest of 4, 2, 1 that divides every width. */
export function vectorWidth(widths: readonly number[]): 1 | 2 | 4 {
  if (widths.every((n) => n % 4 === 0)) return 4;
  if (widths.every((n) => n % 2 === 0)) return 2;
  return 1;
}

/**
 * The default tiling. Rows per tile with subgroups: 16 (two shared loads of A per K step), 32 for
 * gated pairs, whose two weight loads per column make more rows per load pay (measured ~5-10%
 * faster on lavapipe, despite 128 accumulators); 8 without subgroups, where every row is a load.
 * Columns per invocation: 4, or 2 for gated pairs. The workgroup is a multiple of 8 invocations (lavapipe's SIMD
 * width, and whole subgroups for the broadcasts), at most 128 and within the device's limits,
 * chosen to pad the output width least, nearest 64 among equals: an 852-wide layer gets 72 x 2
 * (864 columns) rather than 64 x 2 (896), a 128-wide one 32 x 4 rather than 64 x 4 (half idle).
 */
export const chooseGemm: GemmChooser = (profile, shape) => {
  const share = profile.features.includes("subgroups") ? 8 : 0;
  const vec = vectorWidth([shape.inner, ...(shape.align ?? [])]);
  const tn = shape.weights > 1 ? 2 : 4;
  const tm = share > 0 ? (shape.weights > 1 ? 32 : 16) : 8;
  const limit = Math.min(
    128,
    profile.maxComputeInvocationsPerWorkgroup,
    profile.maxComputeWorkgroupSizeX,
  );
  const candidates: number[] = [];
  for (let wg = 8; wg <= limit; wg += 8) candidates.push(wg);
  if (candidates.length === 0) candidates.push(Math.max(1, limit));
  const padded = (wg: number) => Math.ceil(shape.out / (wg * tn)) * wg * tn;
  const least = Math.min(...candidates.map(padded));
  const wg = candidates
    .filter((c) => padded(c) === least)
    .reduce((a, b) => (Math.abs(b - 64) < Math.abs(a - 64) ? b : a));
  return { tm, tn, wg, vec, share: wg >= share && wg % 8 === 0 ? share : 0 };
};

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
}

const vectorType = (vec: number) => (vec === 1 ? "f32" : `vec${vec}<f32>`);
const COMPONENTS = ["x", "y", "z", "w"];

/** acc + a·b over the `vec` components of two vectors, as a chain of fma. */
function vectorFma(vec: number, a: string, b: string, acc: string): string {
  let e = acc;
  for (let i = 0; i < vec; i++) {
    const c = vec === 1 ? "" : `.${COMPONENTS[i]}`;
    e = `fma(${a}${c}, ${b}${c}, ${e})`;
  }
  return e;
}

/**
 * Elements per store: an invocation's tn columns are adjacent, so where tn is 2 or 4 and divides
 * the output width it stores them as one vector (one store instruction instead of tn).
 */
export function storeWidth(cfg: GemmConfig, out: number): 1 | 2 | 4 {
  return (cfg.tn === 2 || cfg.tn === 4) && out % cfg.tn === 0 ? cfg.tn : 1;
}

/** Binds a GEMM's output, as vectors of storeWidth elements where that is above 1. */
function gemmOutput(w: KernelWriter, name: string, value: number, width: number): string {
  return width === 1 ? w.output(name, value) : w.outputVec(name, value, width as 2 | 4);
}

/**
 * The tile product and its stores. Expects `cb` (the column block), `lid` and, with sharing,
 * `sg_id` and `sg_size` in scope; the caller emits the tile's uniform setup (rows, expert).
 * Invocation lid owns columns cb·wg·tn + lid·tn + c, c < tn.
 */
function emitGemm(w: KernelWriter, cfg: GemmConfig, g: GemmBody): void {
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
        const values = Array.from({ length: tn }, (_, c) =>
          g.value(
            r,
            c,
            g.b.map((__, m) => `acc${m}_${r}_${c}`),
          ),
        );
        const target = g.target(r, key);
        const stores =
          sw > 1
            ? [`${g.output}[(${target} + col0) / ${u(sw)}] = vec${sw}<f32>(${values.join(", ")});`]
            : values.map((v, c) => `${g.output}[${target} + col${c}] = ${v};`);
        const guard = (c: number, line: string) =>
          ragged ? w.b.block(`if (col${c} < ${u(g.out)})`, () => w.b.line(line)) : w.b.line(line);
        stores.forEach((line, c) => guard(c, line));
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

/** A WGSL u32 expression for ceil(size / div), size a runtime product. */
function ceilDivWgsl(size: SizeExpr, div: number): string {
  const s = sizeToWgsl(size, PARAMS);
  return div === 1 ? s : `((${s} + ${u(div - 1)}) / ${u(div)})`;
}

/**
 * A dense GEMM over `m` rows: workgroup g takes row tile g / colBlocks (rows tile_row·tm ...)
 * and column block cb = g % colBlocks. `body` gets the row count expression.
 */
function denseTiles(
  w: KernelWriter,
  cfg: GemmConfig,
  m: SizeExpr,
  out: number,
  body: (rows: string) => void,
): void {
  const colBlocks = Math.ceil(out / (cfg.wg * cfg.tn));
  const rows = sizeToWgsl(m, PARAMS);
  w.perWorkgroup(
    tileCount(m, cfg.tm, 0, colBlocks),
    `${ceilDivWgsl(m, cfg.tm)} * ${u(colBlocks)}`,
    cfg.wg,
    (g) => {
      w.b.line(`let row_base = (${g} / ${u(colBlocks)}) * ${u(cfg.tm)};`);
      w.b.line(`let cb = ${g} % ${u(colBlocks)};`);
      body(rows);
    },
    { subgroups: cfg.share > 0 },
  );
}

/** Dense rows: tile row r is row_base + r, clamped for loads, skipped for stores past the end. */
function denseRows(rows: string, out: number, w: KernelWriter) {
  return {
    key: (r: string) => `min(row_base + ${r}, ${rows} - 1u)`,
    storesUseKey: false,
    source: (key: string) => key,
    row: (r: number, _key: string, stores: () => void) => {
      w.b.line(`let row${r} = row_base + ${u(r)};`);
      w.b.block(`if (row${r} < ${rows})`, stores);
    },
    target: (r: number) => `row${r} * ${u(out)}`,
  };
}

/** Binds a GEMM operand as vectors of `vec` (or plain f32) and returns its name. */
function operand(w: KernelWriter, name: string, value: number, vec: number): string {
  return vec === 1 ? w.input(name, value) : w.inputVec(name, value, vec as 2 | 4);
}

/** The tiling options of the -O2 kernel table (benchmarks pin a tiling with `gemm`). */
export interface FusedOptions {
  readonly gemm?: GemmChooser;
}

function weightDims(w: KernelWriter, value: number): [number, number] {
  return w.type(value).shape.map((d) => staticDim(d, "linear weight dims")) as [number, number];
}

/** act(x·Wᵀ + b) + residual, tiled; also the -O2 kernel of a plain linear. */
function tiledLinear(choose: GemmChooser) {
  return (node: Node<"linear"> | Node<"linear_epilogue">, ctx: EmitContext): EmittedKernel => {
    const w = new KernelWriter(ctx);
    const attrs =
      node.op === "linear_epilogue"
        ? node.attrs
        : { bias: node.inputs.length === 3, act: "none" as const, residual: false };
    const [xv, wv] = node.inputs;
    const bv = attrs.bias ? node.inputs[2] : undefined;
    const rv = attrs.residual ? node.inputs[attrs.bias ? 3 : 2] : undefined;
    const [out, inner] = weightDims(w, wv!);
    const cfg = choose(ctx.profile, { out, inner, weights: 1 });
    const x = operand(w, "x", xv!, cfg.vec);
    const weight = operand(w, "w", wv!, cfg.vec);
    const bias = bv === undefined ? undefined : w.input("b", bv);
    const sw = storeWidth(cfg, out);
    // The residual is read like the output is written: a vector per row of the invocation.
    const residual = rv === undefined ? undefined : operand(w, "residual", rv, sw);
    const y = gemmOutput(w, "y", node.outputs[0]!, sw);
    const act = attrs.act === "none" ? undefined : activationFunction(w.b, attrs.act);
    const kv = inner / cfg.vec;
    denseTiles(w, cfg, shapeSize(w.type(xv!).shape.slice(0, -1)), out, (rows) => {
      emitGemm(w, cfg, {
        out,
        inner,
        ...denseRows(rows, out, w),
        a: (src, k) => `${x}[${src} * ${u(kv)} + ${k}]`,
        b: [(col, k) => `${weight}[${col} * ${u(kv)} + ${k}]`],
        output: y,
        value: (r, c, [acc]) => {
          let v = `${acc}${bias ? ` + ${bias}[col${c}]` : ""}`;
          if (act) v = `${act}(${v})`;
          if (residual) {
            const res =
              sw > 1
                ? `residual${r}.${COMPONENTS[c]}`
                : `${residual}[row${r} * ${u(out)} + col${c}]`;
            if (sw > 1 && c === 0)
              w.b.line(`let residual${r} = ${residual}[(row${r} * ${u(out)} + col0) / ${u(sw)}];`);
            v = `${v} + ${res}`;
          }
          return v;
        },
      });
    });
    return w.finish(
      node.op === "linear"
        ? "linear_tiled"
        : `linear${attrs.act === "none" ? "" : `_${attrs.act}`}${attrs.residual ? "_residual" : ""}`,
    );
  };
}

/** act(x·Wgᵀ) ⊙ (x·Wuᵀ): the gated FFN's two products in one pass over x. */
function linearGlu(choose: GemmChooser) {
  return (node: Node<"linear_glu">, ctx: EmitContext): EmittedKernel => {
    const w = new KernelWriter(ctx);
    const [xv, gv, uv] = node.inputs;
    const [out, inner] = weightDims(w, gv!);
    const cfg = choose(ctx.profile, { out, inner, weights: 2 });
    const x = operand(w, "x", xv!, cfg.vec);
    const gate = operand(w, "w_gate", gv!, cfg.vec);
    const up = operand(w, "w_up", uv!, cfg.vec);
    const y = gemmOutput(w, "y", node.outputs[0]!, storeWidth(cfg, out));
    const act = activationFunction(w.b, node.attrs.act);
    const kv = inner / cfg.vec;
    denseTiles(w, cfg, shapeSize(w.type(xv!).shape.slice(0, -1)), out, (rows) => {
      emitGemm(w, cfg, {
        out,
        inner,
        ...denseRows(rows, out, w),
        a: (src, k) => `${x}[${src} * ${u(kv)} + ${k}]`,
        b: [
          (col, k) => `${gate}[${col} * ${u(kv)} + ${k}]`,
          (col, k) => `${up}[${col} * ${u(kv)} + ${k}]`,
        ],
        output: y,
        value: (_r, _c, [g, p]) => `${act}(${g}) * ${p}`,
      });
    });
    return w.finish(`linear_glu_${node.attrs.act}`);
  };
}

/**
 * join_h(Σ_j slots)·Wᵀ + b: the combine of the k expert outputs read while loading the merge
 * layer's operand. Sub-token s of row n is slots row n·h + s; its k slots are summed in order.
 */
function combineLinear(choose: GemmChooser) {
  return (node: Node<"combine_linear">, ctx: EmitContext): EmittedKernel => {
    const w = new KernelWriter(ctx);
    const [sv, wv, bv] = node.inputs;
    const { heads } = node.attrs;
    const [, kw, subw] = w.type(sv!).shape;
    const k = staticDim(kw, "top_k");
    const sub = staticDim(subw, "sub-token width");
    const [out, inner] = weightDims(w, wv!);
    const cfg = choose(ctx.profile, { out, inner, weights: 1, align: [sub] });
    const slots = operand(w, "slots", sv!, cfg.vec);
    const weight = operand(w, "w", wv!, cfg.vec);
    const bias = bv === undefined ? undefined : w.input("b", bv);
    const y = gemmOutput(w, "y", node.outputs[0]!, storeWidth(cfg, out));
    const [kv, subv] = [inner / cfg.vec, sub / cfg.vec];
    const combined = w.b.helper("combined", () => {
      w.b.block(`fn combined(row: u32, kv: u32) -> ${vectorType(cfg.vec)}`, () => {
        w.b.line(
          `let base = ((row * ${u(heads)} + kv / ${u(subv)}) * ${u(k)}) * ${u(subv)} + kv % ${u(subv)};`,
        );
        w.b.line(`var s = ${slots}[base];`);
        for (let j = 1; j < k; j++) w.b.line(`s += ${slots}[base + ${u(j * subv)}];`);
        w.b.line("return s;");
      });
    });
    denseTiles(w, cfg, shapeSize(w.type(node.outputs[0]!).shape.slice(0, -1)), out, (rows) => {
      emitGemm(w, cfg, {
        out,
        inner,
        ...denseRows(rows, out, w),
        a: (src, kk) => `${combined}(${src}, ${kk})`,
        b: [(col, kk) => `${weight}[${col} * ${u(kv)} + ${kk}]`],
        output: y,
        value: (_r, c, [acc]) => `${acc}${bias ? ` + ${bias}[col${c}]` : ""}`,
      });
    });
    return w.finish("combine_linear");
  };
}

/** residual + join_h(Σ_j slots): the combine fused into the residual add. */
export function emitCombineAdd(node: Node<"combine_add">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [sv, rv] = node.inputs;
  const { heads } = node.attrs;
  const [, kw, subw] = w.type(sv!).shape;
  const k = staticDim(kw, "top_k");
  const sub = staticDim(subw, "sub-token width");
  const slots = w.input("slots", sv!);
  const residual = w.input("residual", rv!);
  const y = w.output("y", node.outputs[0]!);
  const width = sub * heads;
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${u(width)};`);
    w.b.line(`let c = ${i} % ${u(width)};`);
    w.b.line(
      `let base = ((row * ${u(heads)} + c / ${u(sub)}) * ${u(k)}) * ${u(sub)} + c % ${u(sub)};`,
    );
    w.b.line(`var s = ${residual}[${i}];`);
    for (let j = 0; j < k; j++) w.b.line(`s += ${slots}[base + ${u(j * sub)}];`);
    w.b.line(`${y}[${i}] = s;`);
  });
  return w.finish("combine_add");
}

/** Experts up to which the router keeps one (sub-)token's logits in registers. */
const ROUTER_REGISTER_EXPERTS = 128;
/** Experts whose logits one pass over the token's row accumulates. */
const ROUTER_CHUNK = 16;

/**
 * Router logits, softmax and top-k of one (sub-)token per invocation, in registers: the logits
 * are a small GEMM (row · Wᵀ, vec4 along d when d allows) over chunks of 16 experts, the router
 * weight rows loaded 8 at a time by the subgroup and broadcast where subgroups exist; softmax and
 * the k selection passes then run on registers, and only the probabilities, choices and gates
 * are stored. Above 128 experts, the loop version below (probabilities in memory).
 */
function moeRoute(choose: GemmChooser) {
  return (node: Node<"moe_route">, ctx: EmitContext): EmittedKernel => {
    const experts = staticDim(ctx.graph.values[node.inputs[1]!]!.type.shape[0], "router experts");
    if (experts > ROUTER_REGISTER_EXPERTS) return emitMoeRouteLoop(node, ctx);
    const w = new KernelWriter(ctx);
    const { topK, gating } = node.attrs;
    const [xv, wv] = node.inputs;
    const d = staticDim(w.type(wv!).shape[1], "router width");
    // Lanes are rows here; the GEMM chooser still decides vectors and subgroup sharing.
    const cfg = choose(ctx.profile, { out: experts, inner: d, weights: 1 });
    const share = cfg.share;
    const vec = cfg.vec;
    const kv = d / vec;
    const x = operand(w, "x", xv!, vec);
    const weight = operand(w, "w", wv!, vec);
    const [expert, gate, probs] = ["expert", "gate", "probs"].map((name, k) =>
      w.output(name, node.outputs[k]!),
    );
    const rowsSize = dimSize(w.type(xv!).shape[0]!);
    const rows = sizeToWgsl(rowsSize, PARAMS);
    const wg = 64;
    const fma = (a: string, b: string, acc: string) => vectorFma(vec, a, b, acc);
    w.perWorkgroup(
      tileCount(rowsSize, wg),
      ceilDivWgsl(rowsSize, wg),
      wg,
      (g, lid) => {
        // No early return for rows past the end: every lane takes part in the broadcasts.
        w.b.line(`let row = ${g} * ${u(wg)} + ${lid};`);
        w.b.line(`let valid = row < ${rows};`);
        w.b.line(`let xb = min(row, ${rows} - 1u) * ${u(kv)};`);
        for (let c = 0; c < experts; c++) w.b.line(`var l${c} = ${f(0)};`);
        const chunk = (c0: number, shared: boolean) => {
          const n = Math.min(ROUTER_CHUNK, experts - c0);
          w.b.block(`for (var kv = 0u; kv < ${u(kv)}; kv++)`, () => {
            w.b.line(`let xv = ${x}[xb + kv];`);
            if (shared) {
              for (let j = 0; j < Math.ceil(n / share); j++) {
                w.b.line(
                  `let wl${j} = ${weight}[min(${u(c0 + j * share)} + sg_id % ${u(share)}, ${u(experts - 1)}) * ${u(kv)} + kv];`,
                );
              }
            }
            for (let c = c0; c < c0 + n; c++) {
              const wc = shared
                ? `subgroupBroadcast(wl${Math.floor((c - c0) / share)}, ${u((c - c0) % share)})`
                : `${weight}[${u(c * kv)} + kv]`;
              w.b.line(`let w${c} = ${wc};`);
              w.b.line(`l${c} = ${fma("xv", `w${c}`, `l${c}`)};`);
            }
          });
        };
        for (let c0 = 0; c0 < experts; c0 += ROUTER_CHUNK) {
          if (share > 0)
            w.b.ifElse(
              `sg_size >= ${u(share)}`,
              () => chunk(c0, true),
              () => chunk(c0, false),
            );
          else chunk(c0, false);
        }
        w.b.line(`var m = l0;`);
        for (let c = 1; c < experts; c++) w.b.line(`m = max(m, l${c});`);
        w.b.line(`var sum = ${f(0)};`);
        for (let c = 0; c < experts; c++) {
          w.b.line(`let e${c} = exp(l${c} - m);`);
          w.b.line(`sum += e${c};`);
        }
        for (let c = 0; c < experts; c++) w.b.line(`let p${c} = e${c} / sum;`);
        w.b.block("if (valid)", () => {
          for (let c = 0; c < experts; c++)
            w.b.line(`${probs}[row * ${u(experts)} + ${u(c)}] = p${c};`);
        });
        // k selection passes; a strict `>` over ascending ids sends ties to the lower expert index.
        w.b.line(`var kept = ${f(0)};`);
        w.b.line(`var previous_p = ${f(0)};`);
        w.b.line(`var previous = ${i32(-1)};`);
        for (let j = 0; j < topK; j++) {
          w.b.line(`var best${j} = ${i32(-1)};`);
          w.b.line(`var best_p${j} = ${f(-1)};`);
          for (let c = 0; c < experts; c++) {
            // Below the previous choice in (probability desc, index asc) order, and the best such.
            const after =
              j === 0
                ? ""
                : `(p${c} < previous_p || (p${c} == previous_p && ${i32(c)} > previous)) && `;
            w.b.line(`let take${j}_${c} = ${after}p${c} > best_p${j};`);
            w.b.line(`best${j} = select(best${j}, ${i32(c)}, take${j}_${c});`);
            w.b.line(`best_p${j} = select(best_p${j}, p${c}, take${j}_${c});`);
          }
          w.b.line(`kept += best_p${j};`);
          w.b.line(`previous = best${j};`);
          w.b.line(`previous_p = best_p${j};`);
        }
        w.b.block("if (valid)", () => {
          for (let j = 0; j < topK; j++) {
            w.b.line(`${expert}[row * ${u(topK)} + ${u(j)}] = best${j};`);
            const g = gating === "softmax" ? `best_p${j}` : `best_p${j} / kept`;
            w.b.line(`${gate}[row * ${u(topK)} + ${u(j)}] = ${g};`);
          }
        });
      },
      { subgroups: share > 0 },
    );
    return w.finish(`moe_route_top${topK}`);
  };
}

/**
 * Router logits, softmax and top-k of one (sub-)token per invocation, probabilities kept in the
 * output buffer: for routers with more experts than fit in registers.
 */
export function emitMoeRouteLoop(node: Node<"moe_route">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { topK, gating } = node.attrs;
  const [xv, wv] = node.inputs;
  const [e, d] = w.type(wv!).shape.map((x) => staticDim(x, "router weight dims")) as [
    number,
    number,
  ];
  const x = w.input("x", xv!);
  const weight = w.input("w", wv!);
  const [expert, gate, probs] = ["expert", "gate", "probs"].map((name, k) =>
    w.output(name, node.outputs[k]!),
  );
  w.perItem(dimSize(w.type(xv!).shape[0]!), (r) => {
    w.b.line(`let xb = ${r} * ${u(d)};`);
    w.b.line(`let base = ${r} * ${u(e)};`);
    w.b.line(`let out = ${r} * ${u(topK)};`);
    w.b.line(`var m = ${w.b.f32(-Infinity)};`);
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
      w.b.line(`var logit = ${f(0)};`);
      w.b.block(`for (var kk = 0u; kk < ${u(d)}; kk++)`, () =>
        w.b.line(`logit = fma(${x}[xb + kk], ${weight}[c * ${u(d)} + kk], logit);`),
      );
      w.b.line(`${probs}[base + c] = logit;`);
      w.b.line("m = max(m, logit);");
    });
    w.b.line(`var sum = ${f(0)};`);
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
      w.b.line(`let p = exp(${probs}[base + c] - m);`);
      w.b.line(`${probs}[base + c] = p;`);
      w.b.line("sum += p;");
    });
    w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () =>
      w.b.line(`${probs}[base + c] = ${probs}[base + c] / sum;`),
    );
    // k selection passes; a strict `>` over ascending ids sends ties to the lower expert index.
    w.b.line(`var kept = ${f(0)};`);
    w.b.line(`var previous_p = ${f(0)};`);
    w.b.line(`var previous = ${i32(-1)};`);
    w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () => {
      w.b.line(`var best = ${i32(-1)};`);
      w.b.line(`var best_p = ${f(-1)};`);
      w.b.block(`for (var c = 0u; c < ${u(e)}; c++)`, () => {
        w.b.line(`let p = ${probs}[base + c];`);
        // Below the previous choice in (probability desc, index asc) order, and the best such.
        w.b.line(
          `let after = j == 0u || p < previous_p || (p == previous_p && i32(c) > previous);`,
        );
        w.b.block("if (after && p > best_p)", () => {
          w.b.line("best = i32(c);");
          w.b.line("best_p = p;");
        });
      });
      w.b.line(`${expert}[out + j] = best;`);
      w.b.line(`${gate}[out + j] = best_p;`);
      w.b.line("kept += best_p;");
      w.b.line("previous = best;");
      w.b.line("previous_p = best_p;");
    });
    if (gating !== "softmax") {
      w.b.block(`for (var j = 0u; j < ${u(topK)}; j++)`, () =>
        w.b.line(`${gate}[out + j] = ${gate}[out + j] / kept;`),
      );
    }
  });
  return w.finish(`moe_route_top${topK}`);
}

/**
 * The counting sort, in one workgroup: invocation e walks every assignment in the official order
 * (all first choices, earlier rows first, then second choices...), keeping the first C of expert
 * e; a prefix sum over the kept counts gives each expert its segment; a second walk places the
 * assignments. Integer counts and in-order sums make it deterministic without float atomics.
 */
export function emitMoePermute(node: Node<"moe_permute">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { experts, factor, heads } = node.attrs;
  const [ev] = node.inputs;
  const [n, kw] = w.type(ev!).shape;
  const k = staticDim(kw, "top_k");
  const routed = w.input("routed", ev!);
  const [offsets, order, kept, counts, dropped] = [
    "offsets",
    "order",
    "kept",
    "counts",
    "dropped",
  ].map((name, i) => w.output(name, node.outputs[i]!));
  const workgroup = Math.min(
    ctx.profile.maxComputeInvocationsPerWorkgroup,
    256,
    Math.max(32, 2 ** Math.ceil(Math.log2(experts))),
  );
  const rows = sizeToWgsl(dimSize(n!), PARAMS);
  const capacity = factor > 0 ? w.nodeParam(node.id) : u(0xffffffff);
  w.b.declare(`var<workgroup> kept_count: array<u32, ${experts}>;`);
  w.b.declare(`var<workgroup> dropped_count: array<u32, ${experts}>;`);
  w.b.declare(`var<workgroup> segment: array<u32, ${experts + 1}>;`);
  w.singleWorkgroup(workgroup, (lid) => {
    w.b.line(`let assignments = ${rows} * ${u(k)};`);
    w.b.comment("Pass 1: kept and dropped counts per expert, in the official order.");
    w.b.block(`for (var e = ${lid}; e < ${u(experts)}; e += ${u(workgroup)})`, () => {
      w.b.line("var n_kept = 0u;");
      w.b.line("var n_dropped = 0u;");
      for (let h = 0; h < heads; h++) w.b.line(`var count_h${h} = 0u;`);
      w.b.block(`for (var j = 0u; j < ${u(k)}; j++)`, () => {
        w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
          w.b.block(`if (${routed}[r * ${u(k)} + j] == i32(e))`, () => {
            w.b.block(`if (n_kept < ${capacity})`, () => {
              w.b.line("n_kept++;");
              if (heads === 1) w.b.line("count_h0++;");
              else
                for (let h = 0; h < heads; h++)
                  w.b.line(`count_h${h} += select(0u, 1u, r % ${u(heads)} == ${u(h)});`);
            });
            w.b.block("else", () => w.b.line("n_dropped++;"));
          });
        });
      });
      w.b.line("kept_count[e] = n_kept;");
      w.b.line("dropped_count[e] = n_dropped;");
      for (let h = 0; h < heads; h++)
        w.b.line(`${counts}[${u(h * experts)} + e] = i32(count_h${h});`);
    });
    w.b.line("workgroupBarrier();");
    w.b.comment("Prefix sums: kept segments first, then the dropped assignments expert by expert.");
    w.b.block(`if (${lid} == 0u)`, () => {
      w.b.line("var total = 0u;");
      w.b.block(`for (var e = 0u; e < ${u(experts)}; e++)`, () => {
        w.b.line("segment[e] = total;");
        w.b.line(`${offsets}[e] = i32(total);`);
        w.b.line("total += kept_count[e];");
      });
      w.b.line(`segment[${u(experts)}] = total;`);
      w.b.line(`${offsets}[${u(experts)}] = i32(total);`);
      w.b.line("var all_dropped = 0u;");
      w.b.block(`for (var e = 0u; e < ${u(experts)}; e++)`, () => {
        w.b.line("let d = dropped_count[e];");
        w.b.line("dropped_count[e] = total + all_dropped;");
        w.b.line("all_dropped += d;");
      });
    });
    w.b.line("workgroupBarrier();");
    w.b.comment("Pass 2: place every assignment; per-head dropped counts from the same walk.");
    w.b.block(`for (var e = ${lid}; e < ${u(experts)}; e += ${u(workgroup)})`, () => {
      w.b.line("var next_kept = segment[e];");
      w.b.line("var next_dropped = dropped_count[e];");
      w.b.line("var n_kept = 0u;");
      w.b.block(`for (var j = 0u; j < ${u(k)}; j++)`, () => {
        w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
          w.b.line(`let a = r * ${u(k)} + j;`);
          w.b.block(`if (${routed}[a] == i32(e))`, () => {
            w.b.block(`if (n_kept < ${capacity})`, () => {
              w.b.line("n_kept++;");
              w.b.line(`${order}[next_kept] = i32(a);`);
              w.b.line("next_kept++;");
              w.b.line(`${kept}[a] = i32(e);`);
            });
            w.b.block("else", () => {
              w.b.line(`${order}[next_dropped] = i32(a);`);
              w.b.line("next_dropped++;");
              w.b.line(`${kept}[a] = ${i32(-1)};`);
            });
          });
        });
      });
    });
    w.b.comment("Dropped assignments per head: one invocation per head walks the kept ids.");
    w.b.line("storageBarrier();");
    w.b.line("workgroupBarrier();");
    w.b.block(`for (var h = ${lid}; h < ${u(heads)}; h += ${u(workgroup)})`, () => {
      w.b.line("var n = 0u;");
      w.b.block(`for (var r = h; r < ${rows}; r += ${u(heads)})`, () => {
        w.b.block(`for (var j = 0u; j < ${u(k)}; j++)`, () => {
          w.b.line(`n += select(0u, 1u, ${kept}[r * ${u(k)} + j] < ${i32(0)});`);
        });
      });
      w.b.line(`${dropped}[h] = i32(n);`);
    });
  });
  return w.finish(`moe_permute_e${experts}`);
}

/** Top-1 counts and probability sums per expert, one invocation per expert, rows in order. */
export function emitRouteBalance(node: Node<"route_balance">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [ev, pv] = node.inputs;
  const [n, kw] = w.type(ev!).shape;
  const k = staticDim(kw, "top_k");
  const experts = staticDim(w.type(pv!).shape[1], "expert count");
  const routed = w.input("routed", ev!);
  const probs = w.input("probs", pv!);
  const [top1, probSum] = ["top1", "prob_sum"].map((name, i) => w.output(name, node.outputs[i]!));
  const rows = sizeToWgsl(dimSize(n!), PARAMS);
  w.perItem(constantSize(experts), (e) => {
    w.b.line("var n_top1 = 0u;");
    w.b.line(`var p_sum = ${f(0)};`);
    w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
      w.b.line(`n_top1 += select(0u, 1u, ${routed}[r * ${u(k)}] == i32(${e}));`);
      w.b.line(`p_sum += ${probs}[r * ${u(experts)} + ${e}];`);
    });
    w.b.line(`${top1}[${e}] = i32(n_top1);`);
    w.b.line(`${probSum}[${e}] = p_sum;`);
  });
  return w.finish("route_balance");
}

/**
 * The tile walk of a grouped GEMM over the assignments in `order` (segments of experts 0..E-1,
 * then the dropped ones at [offsets[E], A)). Row tile t < ceil(A / tm) covers order positions
 * [t·tm, t·tm + tm) of the segment holding t·tm (a binary search over the offsets finds it);
 * the rows of a segment that starts inside a tile are the work of one extra tile per segment
 * (E of them: experts 1..E-1 and the dropped segment; those whose segment starts on a tile
 * boundary or is empty return at once). So every tile makes exactly one pass, with no loop
 * around it: loops cost on lavapipe (everything inside is masked, and a second copy of the
 * unrolled product did too). `pass()` runs with `e`, `lo`, `hi` (the positions of the tile's
 * rows in this segment), `p0` (the tile's first position) and `live` (e < E: not the dropped
 * segment, whose outputs are zeros; its loads use expert E - 1 and are thrown away) in scope.
 * The dispatch is exactly (ceil(A / tm) + E) tiles per column block.
 */
function groupedTiles(
  w: KernelWriter,
  cfg: GemmConfig,
  args: { offsets: string; experts: number; assignments: SizeExpr; out: number },
  pass: () => void,
): void {
  const colBlocks = Math.ceil(args.out / (cfg.wg * cfg.tn));
  const E = u(args.experts);
  const tm = u(cfg.tm);
  const segmentEnd = (e: string) =>
    `select(total, u32(${args.offsets}[min(${e} + 1u, ${E})]), ${e} < ${E})`;
  w.perWorkgroup(
    tileCount(args.assignments, cfg.tm, args.experts, colBlocks),
    `(${ceilDivWgsl(args.assignments, cfg.tm)} + ${E}) * ${u(colBlocks)}`,
    cfg.wg,
    (g) => {
      w.b.line(`let total = ${sizeToWgsl(args.assignments, PARAMS)};`);
      w.b.line(`let row_tiles = ${ceilDivWgsl(args.assignments, cfg.tm)};`);
      w.b.line(`let t = ${g} / ${u(colBlocks)};`);
      w.b.line(`let cb = ${g} % ${u(colBlocks)};`);
      w.b.line("var e = 0u;");
      w.b.line("var p0 = 0u;");
      w.b.line("var lo = 0u;");
      w.b.line("var hi = 0u;");
      w.b.ifElse(
        "t < row_tiles",
        () => {
          w.b.line(`p0 = t * ${tm};`);
          w.b.comment(
            "The last segment starting at or before p0 (offsets never decrease): a binary " +
              "search without branches or loops (both are costly on lavapipe).",
          );
          for (
            let step = 2 ** Math.floor(Math.log2(Math.max(1, args.experts)));
            step >= 1;
            step /= 2
          ) {
            w.b.line(
              `e = select(e, min(e + ${u(step)}, ${E}), u32(${args.offsets}[min(e + ${u(step)}, ${E})]) <= p0);`,
            );
          }
          w.b.line("lo = p0;");
          w.b.line(`hi = min(p0 + ${tm}, ${segmentEnd("e")});`);
        },
        () => {
          w.b.comment("Extra tile: the rows of segment e in the tile where it starts.");
          w.b.line("e = t - row_tiles + 1u;");
          w.b.line(`lo = u32(${args.offsets}[e]);`);
          w.b.line(`let end = ${segmentEnd("e")};`);
          w.b.block(`if (lo % ${tm} == 0u || lo >= end)`, () => w.b.line("return;"));
          w.b.line(`p0 = lo - lo % ${tm};`);
          w.b.line(`hi = min(p0 + ${tm}, end);`);
        },
      );
      w.b.line(`let live = e < ${E};`);
      pass();
    },
    { subgroups: cfg.share > 0 },
  );
}

/** Grouped rows: tile row r is order position p0 + r, valid inside [lo, hi); keys are assignments. */
function groupedRows(order: string, out: number, w: KernelWriter) {
  return {
    key: (r: string) => `u32(${order}[clamp(p0 + ${r}, lo, hi - 1u)])`,
    storesUseKey: true,
    row: (r: number, _key: string, stores: () => void) =>
      w.b.block(`if (p0 + ${u(r)} >= lo && p0 + ${u(r)} < hi)`, stores),
    target: (_r: number, key: string) => `${key} * ${u(out)}`,
  };
}

/** H[a] = act(x[a / k]·W1[e]ᵀ + b1[e]) (or the gated pair) for the assignments of each segment. */
function moeGroupedUp(choose: GemmChooser) {
  return (node: Node<"moe_grouped_up">, ctx: EmitContext): EmittedKernel => {
    const w = new KernelWriter(ctx);
    const { act, gated, bias } = node.attrs;
    const [xv, , ov, offv, w1v, extrav] = node.inputs;
    const [experts, hidden, inner] = w
      .type(w1v!)
      .shape.map((d) => staticDim(d, "expert weight dims")) as [number, number, number];
    const k = staticDim(w.type(node.outputs[0]!).shape[1], "top_k");
    const cfg = choose(ctx.profile, { out: hidden, inner, weights: gated ? 2 : 1 });
    if (cfg.share > 0) w.b.declare("diagnostic(off, subgroup_uniformity);");
    const x = operand(w, "x", xv!, cfg.vec);
    const order = w.input("order", ov!);
    const offsets = w.input("offsets", offv!);
    const w1 = operand(w, gated ? "w_gate" : "w1", w1v!, cfg.vec);
    const extra =
      extrav === undefined
        ? undefined
        : gated
          ? operand(w, "w_up", extrav, cfg.vec)
          : w.input("b1", extrav);
    const h = gemmOutput(w, "h", node.outputs[0]!, storeWidth(cfg, hidden));
    const fn = activationFunction(w.b, act as Activation);
    const kv = inner / cfg.vec;
    const assignments = shapeSize(w.type(node.outputs[0]!).shape.slice(0, 2));
    const weight = (name: string) => (col: string, kk: string) =>
      `${name}[(wbase + ${col}) * ${u(kv)} + ${kk}]`;
    groupedTiles(w, cfg, { offsets, experts, assignments, out: hidden }, () => {
      w.b.line(`let wbase = min(e, ${u(experts - 1)}) * ${u(hidden)};`);
      emitGemm(w, cfg, {
        out: hidden,
        inner,
        ...groupedRows(order, hidden, w),
        source: (key) => `${key} / ${u(k)}`,
        a: (src, kk) => `${x}[${src} * ${u(kv)} + ${kk}]`,
        b: gated ? [weight(w1), weight(extra!)] : [weight(w1)],
        output: h,
        value: (_r, c, [a0, a1]) =>
          `select(${f(0)}, ${
            gated
              ? `${fn}(${a0}) * ${a1}`
              : `${fn}(${a0}${bias ? ` + ${extra}[wbase + col${c}]` : ""})`
          }, live)`,
      });
    });
    return w.finish(`moe_grouped_up${gated ? "_glu" : ""}_${act}`);
  };
}

/** slots[a] = gate[a] · (H[a]·W2[e]ᵀ + b2[e]); dropped assignments get zeros. */
function moeGroupedDown(choose: GemmChooser) {
  return (node: Node<"moe_grouped_down">, ctx: EmitContext): EmittedKernel => {
    const w = new KernelWriter(ctx);
    const [hv, , ov, offv, gv, w2v, b2v] = node.inputs;
    const [experts, out, inner] = w
      .type(w2v!)
      .shape.map((d) => staticDim(d, "expert weight dims")) as [number, number, number];
    const cfg = choose(ctx.profile, { out, inner, weights: 1 });
    if (cfg.share > 0) w.b.declare("diagnostic(off, subgroup_uniformity);");
    const hid = operand(w, "h", hv!, cfg.vec);
    const order = w.input("order", ov!);
    const offsets = w.input("offsets", offv!);
    const gate = w.input("gate", gv!);
    const w2 = operand(w, "w2", w2v!, cfg.vec);
    const b2 = b2v === undefined ? undefined : w.input("b2", b2v);
    const slots = gemmOutput(w, "slots", node.outputs[0]!, storeWidth(cfg, out));
    const kv = inner / cfg.vec;
    const assignments = shapeSize(w.type(node.outputs[0]!).shape.slice(0, 2));
    groupedTiles(w, cfg, { offsets, experts, assignments, out }, () => {
      w.b.line(`let wbase = min(e, ${u(experts - 1)}) * ${u(out)};`);
      emitGemm(w, cfg, {
        out,
        inner,
        ...groupedRows(order, out, w),
        row: (r, key, stores) =>
          w.b.block(`if (p0 + ${u(r)} >= lo && p0 + ${u(r)} < hi)`, () => {
            w.b.line(`let gate${r} = ${gate}[${key}];`);
            stores();
          }),
        source: (key) => key,
        a: (src, kk) => `${hid}[${src} * ${u(kv)} + ${kk}]`,
        b: [(col, kk) => `${w2}[(wbase + ${col}) * ${u(kv)} + ${kk}]`],
        output: slots,
        value: (r, c, [acc]) =>
          `select(${f(0)}, gate${r} * (${acc}${b2 ? ` + ${b2}[wbase + col${c}]` : ""}), live)`,
      });
    });
    return w.finish("moe_grouped_down");
  };
}

/** The -O2 kernel table with a GEMM tiling chooser (default: chooseGemm for the profile). */
export function fusedKernels(options: FusedOptions = {}) {
  const choose = options.gemm ?? chooseGemm;
  return {
    linear: tiledLinear(choose),
    linear_epilogue: tiledLinear(choose),
    linear_glu: linearGlu(choose),
    moe_route: moeRoute(choose),
    moe_permute: emitMoePermute,
    route_balance: emitRouteBalance,
    moe_grouped_up: moeGroupedUp(choose),
    moe_grouped_down: moeGroupedDown(choose),
    combine_linear: combineLinear(choose),
    combine_add: emitCombineAdd,
  };
}

/** The kernels the -O2 plan adds to (or replaces in) the unfused table. */
export const FUSED_KERNELS = fusedKernels();
