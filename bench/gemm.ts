// GEMMs in benchmarks: the largest GEMM kernel of a timed model (the plan records which kernels
// tile a GEMM, and its shape), and a sweep of tilings of a standalone dense GEMM of that shape.
import {
  type GemmConfig,
  chooseGemm,
  vectorWidth,
} from "../compiler/codegen/kernels/gemm/tiling.js";
import type { DeviceProfile } from "../plan/profile.js";
import { profileOfDevice } from "../plan/profile.js";
import type { MoecDevice } from "../runtime/device.js";
import { denseGemmGraph } from "./layers.js";
import {
  type KernelResult,
  type MeasureOptions,
  type ModelResult,
  measureModels,
} from "./measure.js";

/** A GEMM as the dense product it is equivalent to: rows x inner -> out (both of a gated pair). */
export interface GemmDims {
  readonly rows: number;
  readonly inner: number;
  readonly out: number;
}

/**
 * The largest GEMM kernel of a result (by multiply-adds) and its dense-equivalent shape: rows x
 * inner -> out, both halves of a gated pair counted in `out`. GEMM kernels are those whose plan
 * entry records a tiled GEMM.
 */
export function largestGemm(
  result: ModelResult,
): { kernel: KernelResult; dims: GemmDims } | undefined {
  let best: { kernel: KernelResult; dims: GemmDims } | undefined;
  result.plan.kernels.forEach((k, i) => {
    const kernel = result.kernels[i]!;
    if (!k.gemm || (best && best.kernel.macs >= kernel.macs)) return;
    const out = k.gemm.out * k.gemm.weights;
    const rows = Math.round(kernel.macs / (out * k.gemm.inner));
    if (rows > 0) best = { kernel, dims: { rows, inner: k.gemm.inner, out } };
  });
  return best;
}

/** Tilings to try for a dense GEMM on this device: the default and its neighbours. */
export function sweepConfigs(profile: DeviceProfile, dims: GemmDims): GemmConfig[] {
  const base = chooseGemm(profile, { out: dims.out, inner: dims.inner, weights: 1 });
  const vec = vectorWidth([dims.inner]);
  const limit = Math.min(
    profile.maxComputeInvocationsPerWorkgroup,
    profile.maxComputeWorkgroupSizeX,
  );
  const out: GemmConfig[] = [base];
  const shares: (0 | 8)[] = profile.features.includes("subgroups") ? [8, 0] : [0];
  for (const share of shares) {
    const tms = share > 0 ? [8, 16, 32] : [4, 8, 16];
    for (const tm of tms)
      for (const tn of [2, 4])
        for (const wg of [32, 64]) {
          if (wg > limit) continue;
          // Without subgroups keep the sweep short: the unshared loop is the fallback, not a contender.
          if (share === 0 && !(tn === 4 && wg === 64)) continue;
          out.push({ tm, tn, wg, vec, share });
        }
  }
  const key = (c: GemmConfig) => `${c.tm}:${c.tn}:${c.wg}:${c.vec}:${c.share}`;
  return out.filter((c, i) => out.findIndex((d) => key(d) === key(c)) === i);
}

export function describeConfig(c: GemmConfig): string {
  return `tm=${c.tm} tn=${c.tn} wg=${c.wg} vec${c.vec}${c.share ? ` subgroup-shared x${c.share}` : " no subgroups"}`;
}

export interface SweepResult {
  readonly dims: GemmDims;
  readonly results: readonly { config: GemmConfig; result: ModelResult }[];
  readonly best: { config: GemmConfig; result: ModelResult };
  /** The kernel-time of the device's default tiling (chooseGemm). */
  readonly default: { config: GemmConfig; result: ModelResult };
}

/** Times a standalone dense GEMM of `dims` at every tiling of sweepConfigs. */
export async function gemmSweep(
  moec: MoecDevice,
  dims: GemmDims,
  options: Omit<MeasureOptions, "tokens">,
  configs = sweepConfigs(profileOfDevice(moec), dims),
): Promise<SweepResult> {
  const graph = denseGemmGraph(dims.inner, dims.out);
  const models = configs.map((config) => ({
    label: `GEMM ${dims.rows}x${dims.inner}x${dims.out} ${describeConfig(config)}`,
    graph,
    level: 2 as const,
    tiling: { gemm: config },
  }));
  const measured = await measureModels(moec, models, { ...options, tokens: dims.rows });
  const results = measured.map((result, i) => ({ config: configs[i]!, result }));
  const best = results.reduce((a, b) => (b.result.ms.median < a.result.ms.median ? b : a));
  return { dims, results, best, default: results[0]! };
}
