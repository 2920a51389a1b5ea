// The -O0 kernel table: one straightforward kernel per IR op that lowering produces. Keyed by
// op name, so an op added to the IR without a kernel here is a type error.
import type { OpName } from "../../ir/ops.js";
import { emitAttention, emitRope } from "./attention.js";
import type { KernelEmitter } from "./common.js";
import {
  emitActivation,
  emitAdd,
  emitEmbedding,
  emitLayernorm,
  emitLinear,
  emitMul,
  emitRmsnorm,
} from "./dense.js";
import {
  emitCapacity,
  emitCombine,
  emitExpertDown,
  emitExpertUp,
  emitRoute,
  emitRouteStats,
} from "./moe.js";

/** Ops bound by the runtime (input, weight) or that only alias memory (split, join). */
export type NoKernelOp = "input" | "weight" | "split" | "join";

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
  mul: emitMul,
  rope: emitRope,
  attention: emitAttention,
  route: emitRoute,
  capacity: emitCapacity,
  expert_up: emitExpertUp,
  expert_down: emitExpertDown,
  combine: emitCombine,
  route_stats: emitRouteStats,
};
