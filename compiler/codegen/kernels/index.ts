// The -O0 kernel table: one straightforward kernel per IR op that lowering produces. Keyed by
// op name, so an op added to the IR without a kernel here is a type error.
import type { OpName } from "../../ir/ops.js";
import {
  emitAttention,
  emitCachedAttention,
  emitKvWrite,
  emitRope,
  emitRopeGrad,
} from "./attention.js";
import { emitAttentionGrad, emitAttentionStats } from "./attentionGrad.js";
import { emitActQuant, emitBitExpertDown, emitBitExpertUp, emitBitLinear } from "./bitnet.js";
import { emitActQuantSte, emitWeightQuantSte } from "./bitnetSte.js";
import { emitCosineLogitsGrad } from "./cosineGrad.js";
import {
  emitActivationGrad,
  emitCrossEntropy,
  emitCrossEntropyGrad,
  emitEmbeddingGrad,
  emitFill,
  emitLinearGradInput,
  emitLinearGradWeight,
  emitNormGradInput,
  emitNormGradWeight,
  emitSumRows,
} from "./backward.js";
import { emitPadCols, emitRepeatRowsGrad, emitRowDot } from "./columnsGrad.js";
import type { KernelEmitter } from "./common.js";
import {
  emitActivation,
  emitAdd,
  emitConcatCols,
  emitRepeatRows,
  emitSliceCols,
  emitEmbedding,
  emitLayernorm,
  emitLinear,
  emitMul,
  emitRmsnorm,
  emitScale,
  emitScaleRows,
  emitSub,
} from "./dense.js";
import {
  emitCapacity,
  emitCombine,
  emitCosineLogits,
  emitExpertDown,
  emitExpertUp,
  emitRoute,
  emitRouteGrouped,
  emitRouteStats,
} from "./moe.js";
import {
  emitBalanceLoss,
  emitBalanceLossGrad,
  emitCapacityGrad,
  emitCombineGrad,
  emitExpertBackprop,
  emitExpertBiasGrad,
  emitExpertDownGrad,
  emitExpertUpGrad,
  emitExpertWeightGrad,
  emitRouteGrad,
  emitRouteGroupedGrad,
} from "./moeGrad.js";

/** Ops bound by the runtime (input, weight) or that only alias memory (split, join). */
export type NoKernelOp = "input" | "weight" | "state" | "split" | "join";

/**
 * Ops that only the optimiser's passes create (compiler/passes); their kernels come with the
 * fused code generator, which passes them to buildPlan as extra emitters.
 */
export const FUSED_OPS = [
  "linear_epilogue",
  "linear_glu",
  "moe_route",
  "moe_permute",
  "route_balance",
  "moe_grouped_up",
  "moe_grouped_down",
  "combine_linear",
  "combine_add",
  "moe_grouped_weight_grad",
  "moe_grouped_backprop",
  "moe_grouped_up_grad",
  "moe_down_grad",
  "moe_gate_bias_grad",
] as const satisfies readonly OpName[];

export type FusedOp = (typeof FUSED_OPS)[number];

export type UnfusedOp = Exclude<OpName, NoKernelOp | FusedOp>;
export type KernelOp = Exclude<OpName, NoKernelOp>;

export type KernelTable<K extends OpName> = { readonly [P in K]: KernelEmitter<P> };

export const UNFUSED_KERNELS: KernelTable<UnfusedOp> = {
  linear: emitLinear,
  embedding: emitEmbedding,
  rmsnorm: emitRmsnorm,
  layernorm: emitLayernorm,
  activation: emitActivation,
  add: emitAdd,
  sub: emitSub,
  slice_cols: emitSliceCols,
  concat_cols: emitConcatCols,
  repeat_rows: emitRepeatRows,
  mul: emitMul,
  scale: emitScale,
  scale_rows: emitScaleRows,
  rope: emitRope,
  attention: emitAttention,
  kv_write: emitKvWrite,
  cached_attention: emitCachedAttention,
  route: emitRoute,
  route_grouped: emitRouteGrouped,
  capacity: emitCapacity,
  cosine_logits: emitCosineLogits,
  expert_up: emitExpertUp,
  expert_down: emitExpertDown,
  combine: emitCombine,
  route_stats: emitRouteStats,
  // BitNet b1.58 layers: int8 activations, packed ternary weights, integer dot products.
  act_quant: emitActQuant,
  bitlinear: emitBitLinear,
  bit_expert_up: emitBitExpertUp,
  bit_expert_down: emitBitExpertDown,
  // BitNet training: fake quantisation of activations and f32 master weights.
  act_quant_ste: emitActQuantSte,
  weight_quant_ste: emitWeightQuantSte,
  // Backward ops and losses (compiler/autodiff), one simple kernel each.
  linear_grad_input: emitLinearGradInput,
  linear_grad_weight: emitLinearGradWeight,
  sum_rows: emitSumRows,
  embedding_grad: emitEmbeddingGrad,
  activation_grad: emitActivationGrad,
  norm_grad_input: emitNormGradInput,
  norm_grad_weight: emitNormGradWeight,
  rope_grad: emitRopeGrad,
  attention_stats: emitAttentionStats,
  attention_grad: emitAttentionGrad,
  route_grad: emitRouteGrad,
  route_grouped_grad: emitRouteGroupedGrad,
  pad_cols: emitPadCols,
  repeat_rows_grad: emitRepeatRowsGrad,
  row_dot: emitRowDot,
  cosine_logits_grad: emitCosineLogitsGrad,
  capacity_grad: emitCapacityGrad,
  expert_up_grad: emitExpertUpGrad,
  expert_backprop: emitExpertBackprop,
  expert_weight_grad: emitExpertWeightGrad,
  expert_bias_grad: emitExpertBiasGrad,
  expert_down_grad: emitExpertDownGrad,
  combine_grad: emitCombineGrad,
  fill: emitFill,
  cross_entropy: emitCrossEntropy,
  cross_entropy_grad: emitCrossEntropyGrad,
  balance_loss: emitBalanceLoss,
  balance_loss_grad: emitBalanceLossGrad,
};
