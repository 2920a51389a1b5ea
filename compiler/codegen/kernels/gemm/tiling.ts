// GEMM tiling policy: how a GEMM is cut into workgroup tiles for a device profile and shape.
import type { DeviceProfile } from "../../profile.js";

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

/**
 * Elements per store: an invocation's tn columns are adjacent, so where tn is 2 or 4 and divides
 * the output width it stores them as one vector (one store instruction instead of tn).
 */
export function storeWidth(cfg: GemmConfig, out: number): 1 | 2 | 4 {
  return (cfg.tn === 2 || cfg.tn === 4) && out % cfg.tn === 0 ? cfg.tn : 1;
}
