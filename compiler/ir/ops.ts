// The op table: the one home of every IR op's shape rule, cost and float64 reference semantics.
// Each op family defines its entries in its own file under ops/; this module assembles them.
import type { OpName } from "./ops/def.js";
import { type OpDef } from "./ops/def.js";
import { ATTENTION_OPS } from "./ops/attention.js";
import { BITNET_OPS } from "./ops/bitnet.js";
import { BITNET_STE_OPS } from "./ops/bitnetSte.js";
import { COLUMN_OPS } from "./ops/columns.js";
import { COLUMN_GRAD_OPS } from "./ops/columnsGrad.js";
import { COSINE_GRAD_OPS } from "./ops/cosineGrad.js";
import { ATTENTION_GRAD_OPS } from "./ops/attentionGrad.js";
import { DENSE_OPS } from "./ops/dense.js";
import { DENSE_GRAD_OPS } from "./ops/denseGrad.js";
import { ELEMENTWISE_OPS } from "./ops/elementwise.js";
import { EXPERT_OPS } from "./ops/experts.js";
import { FUSED_LINEAR_OPS } from "./ops/fusedLinear.js";
import { FUSED_MOE_OPS } from "./ops/fusedMoe.js";
import { FUSED_MOE_GRAD_OPS } from "./ops/fusedMoeGrad.js";
import { HEAD_OPS } from "./ops/heads.js";
import { LOSS_OPS } from "./ops/loss.js";
import { MOE_GRAD_OPS } from "./ops/moeGrad.js";
import { NORM_OPS } from "./ops/norms.js";
import { ROUTING_OPS } from "./ops/routing.js";

export * from "./ops/def.js";
export { ACTIVATION_FUNCTIONS, topKIndices } from "./ops/math.js";
export { COSINE_EPS, GROUPED_RENORM_EPS, MIN_TEMPERATURE } from "./ops/routing.js";
export type { DType } from "./types.js";

type OpTable = { readonly [K in OpName]: OpDef<K> };

export const OPS: OpTable = {
  ...DENSE_OPS,
  ...NORM_OPS,
  ...ELEMENTWISE_OPS,
  ...ATTENTION_OPS,
  ...HEAD_OPS,
  ...COLUMN_OPS,
  ...ROUTING_OPS,
  ...EXPERT_OPS,
  ...BITNET_OPS,
  ...BITNET_STE_OPS,
  // Fused ops, made by the optimiser's passes; never by lowering.
  ...FUSED_LINEAR_OPS,
  ...FUSED_MOE_OPS,
  ...FUSED_MOE_GRAD_OPS,
  // Backward ops and losses, made by differentiation (compiler/autodiff); never by lowering.
  ...DENSE_GRAD_OPS,
  ...COLUMN_GRAD_OPS,
  ...ATTENTION_GRAD_OPS,
  ...MOE_GRAD_OPS,
  ...COSINE_GRAD_OPS,
  ...LOSS_OPS,
};

export const OP_NAMES = Object.keys(OPS) as OpName[];
