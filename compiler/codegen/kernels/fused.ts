// Kernels of the optimiser's fused ops (design.md section 6), and the tiled GEMMs that replace
// the -O0 linear at -O2: the table of them. The GEMM itself is in gemm/ (tiling policy, tile
// walks, emitter; gemm/emit.ts says why it has this shape), the kernels by concept in fused/.
// Measured with `moec bench` and bench/suite.ts (results in bench/RESULTS.md).
import { emitCombineAdd, combineLinear } from "./fused/combine.js";
import { moeGroupedDown, moeGroupedUp } from "./fused/grouped.js";
import {
  emitMoeDownGrad,
  emitMoeGateBiasGrad,
  moeGroupedBackprop,
  moeGroupedUpGrad,
  moeGroupedWeightGrad,
} from "./fused/groupedGrad.js";
import { linearGlu, tiledLinear } from "./fused/linear.js";
import { linearGradWeightSum, tiledLinearGradInput } from "./fused/linearGrad.js";
import { emitMoePermute, emitRouteBalance } from "./fused/permute.js";
import { emitMoeRoute } from "./fused/router.js";

export {
  type GemmConfig,
  type GemmShape,
  chooseGemm,
  storeWidth,
  vectorWidth,
} from "./gemm/tiling.js";
export { emitCombineAdd } from "./fused/combine.js";
export { emitMoePermute, emitRouteBalance } from "./fused/permute.js";
export { emitMoeRouteLoop } from "./fused/router.js";

/**
 * The kernels the -O2 plan adds to (or replaces in) the unfused table. GEMM tilings come from the
 * emit context (CompileOptions.tiling over chooseGemm) and are recorded with each kernel.
 */
export const FUSED_KERNELS = {
  linear: tiledLinear,
  linear_epilogue: tiledLinear,
  linear_glu: linearGlu,
  linear_grad_input: tiledLinearGradInput,
  linear_grad_weight: linearGradWeightSum,
  moe_route: emitMoeRoute,
  moe_permute: emitMoePermute,
  route_balance: emitRouteBalance,
  moe_grouped_up: moeGroupedUp,
  moe_grouped_down: moeGroupedDown,
  combine_linear: combineLinear,
  combine_add: emitCombineAdd,
  // The expert bank's backward over the same segments (training graphs).
  moe_grouped_weight_grad: moeGroupedWeightGrad,
  moe_grouped_backprop: moeGroupedBackprop,
  moe_grouped_up_grad: moeGroupedUpGrad,
  moe_down_grad: emitMoeDownGrad,
  moe_gate_bias_grad: emitMoeGateBiasGrad,
};
