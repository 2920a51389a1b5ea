// Kernels of the optimiser's fused ops (design.md section 6), and the tiled GEMMs that replace
// the -O0 linear at -O2: the table of them. The GEMM itself is in gemm/ (tiling policy, tile
// walks, emitter; gemm/emit.ts says why it has this shape), the kernels by concept in fused/.
// Measured with `moec bench` and bench/suite.ts (results in bench/RESULTS.md).
import { emitCombineAdd, combineLinear } from "./fused/combine.js";
import { moeGroupedDown, moeGroupedUp } from "./fused/grouped.js";
import { linearGlu, tiledLinear } from "./fused/linear.js";
import { emitMoePermute, emitRouteBalance } from "./fused/permute.js";
import { moeRoute } from "./fused/router.js";
import { type GemmChooser, chooseGemm } from "./gemm/tiling.js";

export {
  type GemmChooser,
  type GemmConfig,
  type GemmShape,
  chooseGemm,
  storeWidth,
  vectorWidth,
} from "./gemm/tiling.js";
export { emitCombineAdd } from "./fused/combine.js";
export { emitMoePermute, emitRouteBalance } from "./fused/permute.js";
export { emitMoeRouteLoop } from "./fused/router.js";

/** The tiling options of the -O2 kernel table (benchmarks pin a tiling with `gemm`). */
export interface FusedOptions {
  readonly gemm?: GemmChooser;
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
