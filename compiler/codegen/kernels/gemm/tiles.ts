// The tile walks of the GEMMs: which rows each workgroup takes, and the dispatch that covers them
// exactly (ceil(rows / tm) row tiles per column block, as SizeExpr tile counts).
import { type KernelWriter, PARAMS } from "../common.js";
import { type SizeExpr, tileCount } from "../../../../plan/size.js";
import { sizeToWgsl, u32Literal as u } from "../../wgsl.js";
import type { GemmConfig } from "./tiling.js";

/** A WGSL u32 expression for ceil(size / div), size a runtime product. */
export function ceilDivWgsl(size: SizeExpr, div: number): string {
  const s = sizeToWgsl(size, PARAMS);
  return div === 1 ? s : `((${s} + ${u(div - 1)}) / ${u(div)})`;
}

/**
 * A dense GEMM over `m` rows: workgroup g takes row tile g / colBlocks (rows tile_row·tm ...)
 * and column block cb = g % colBlocks. `body` gets the row count expression.
 */
export function denseTiles(
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
export function denseRows(rows: string, out: number, w: KernelWriter) {
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
export function groupedTiles(
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
export function groupedRows(order: string, out: number, w: KernelWriter) {
  return {
    key: (r: string) => `u32(${order}[clamp(p0 + ${r}, lo, hi - 1u)])`,
    storesUseKey: true,
    row: (r: number, _key: string, stores: () => void) =>
      w.b.block(`if (p0 + ${u(r)} >= lo && p0 + ${u(r)} < hi)`, stores),
    target: (_r: number, key: string) => `${key} * ${u(out)}`,
  };
}
