// GEMM tiling policy: how a GEMM is cut into workgroup tiles for a device profile and shape, with
// any fields the compile options fix (CompileOptions.tiling); the choice is recorded in the plan.
import type { GemmTiling } from "../../../../plan/format.js";
import type { DeviceProfile } from "../../../../plan/profile.js";
import { CodegenError, type EmitContext, type KernelWriter } from "../common.js";

/** How a GEMM is tiled (chooseGemm picks one from the device profile and the shape). */
export type GemmConfig = GemmTiling;

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
  /** At most this many rows, when the compile fixed them (a decoding plan: T = 1). */
  readonly rows?: number;
}

/** The row count of a value's leading dims when the compile fixed it (else undefined). */
export function staticRows(w: KernelWriter, value: number): number | undefined {
  const dims = w.type(value).shape.slice(0, -1);
  return dims.every((d): d is number => typeof d === "number")
    ? dims.reduce((a, b) => a * b, 1)
    : undefined;
}

/**
 * The tiling of a kernel's GEMM: chooseGemm for the profile and shape, with the fields the
 * compile options fix laid over it (benchmarks sweep tilings this way), checked, and recorded
 * with the kernel for the plan.
 */
export function tileGemm(w: KernelWriter, shape: GemmShape): GemmConfig {
  const cfg = gemmTiling(w.ctx, shape);
  w.recordGemm({ out: shape.out, inner: shape.inner, weights: shape.weights, tiling: cfg });
  return cfg;
}

/** The tiling tileGemm would choose, unrecorded: for kernels that take only its vector width and sharing. */
export function gemmTiling(ctx: EmitContext, shape: GemmShape): GemmConfig {
  const cfg = { ...chooseGemm(ctx.profile, shape), ...ctx.tiling?.gemm };
  checkTiling(cfg, shape, ctx.profile);
  return cfg;
}

function checkTiling(cfg: GemmConfig, shape: GemmShape, profile: DeviceProfile): void {
  const bad = (why: string) =>
    new CodegenError(
      `GEMM tiling tm=${cfg.tm} tn=${cfg.tn} wg=${cfg.wg} vec=${cfg.vec} share=${cfg.share} does not fit ${shape.out}x${shape.inner}: ${why}`,
    );
  const positive = (n: number) => Number.isInteger(n) && n >= 1;
  if (!positive(cfg.tm) || !positive(cfg.tn) || !positive(cfg.wg))
    throw bad("tm, tn and wg must be positive integers");
  if (![1, 2, 4].includes(cfg.vec) || vectorWidth([shape.inner, ...(shape.align ?? [])]) < cfg.vec)
    throw bad(
      `vec must be 1, 2 or 4 and divide ${[shape.inner, ...(shape.align ?? [])].join(", ")}`,
    );
  const limit = Math.min(
    profile.maxComputeInvocationsPerWorkgroup,
    profile.maxComputeWorkgroupSizeX,
  );
  if (cfg.wg > limit) throw bad(`wg exceeds the device's ${limit} invocations per workgroup`);
  if (![0, 4, 8].includes(cfg.share)) throw bad("share must be 0, 4 or 8");
  if (
    cfg.share > 0 &&
    !(profile.features.includes("subgroups") && cfg.wg >= cfg.share && cfg.wg % 8 === 0)
  )
    throw bad(
      "subgroup sharing needs the subgroups feature and wg a multiple of 8, at least share",
    );
}

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
export function chooseGemm(profile: DeviceProfile, shape: GemmShape): GemmConfig {
  const share = profile.features.includes("subgroups") ? 8 : 0;
  const vec = vectorWidth([shape.inner, ...(shape.align ?? [])]);
  const tn = shape.weights > 1 ? 2 : 4;
  const full = share > 0 ? (shape.weights > 1 ? 32 : 16) : 8;
  // Fewer rows than a tile (one token being decoded): tiles of just those rows, and no shared
  // row loads, which pay only when lanes load different rows.
  const few = shape.rows !== undefined && shape.rows < full;
  const tm = few ? shape.rows! : full;
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
  return { tm, tn, wg, vec, share: !few && wg >= share && wg % 8 === 0 ? share : 0 };
}

/**
 * Elements per store: an invocation's tn columns are adjacent, so where tn is 2 or 4 and divides
 * the output width it stores them as one vector (one store instruction instead of tn).
 */
export function storeWidth(cfg: GemmConfig, out: number): 1 | 2 | 4 {
  return (cfg.tn === 2 || cfg.tn === 4) && out % cfg.tn === 0 ? cfg.tn : 1;
}
