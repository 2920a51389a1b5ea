// What an op-table entry is: the attributes of every op, and the shape, cost and reference rules
// each entry gives. The entries themselves live in one file per op family.
import type { CapacityLimit } from "../../../plan/capacity.js";
import type { InitKind } from "../../../plan/format.js";
import type { TensorType } from "../types.js";

export type Activation = "gelu" | "gelu_tanh" | "silu" | "relu" | "sigmoid";
export const ACTIVATIONS: readonly Activation[] = ["gelu", "gelu_tanh", "silu", "relu", "sigmoid"];

/**
 * How a router picks its k experts and weighs them (design.md section 4): "softmax", "renorm"
 * and "softmax_topk" take the top k of p = softmax(logits) with gate p (raw), p renormalised over
 * the k, or (the same numbers) a softmax over the k kept logits; "sigmoid" takes the top k of
 * s = sigmoid(logits) with gate s, not renormalised (X-MoE's sigmoid gating).
 */
export type Gating = "softmax" | "renorm" | "softmax_topk" | "sigmoid";
export const GATINGS: readonly Gating[] = ["softmax", "renorm", "softmax_topk", "sigmoid"];

/** Which normalisation a norm's backward op differentiates. */
export type NormKind = "rms" | "layer";

/** How a weight's seeded initial value is drawn: one home, the plan format. */
export type { InitKind } from "../../../plan/format.js";

/** Attributes of each op; the keys are the op names. */
export interface OpAttrs {
  input: { readonly name: string };
  /** A weight; `{e}` in the name stands for the expert index of a stacked expert tensor. */
  weight: { readonly name: string; readonly init: InitKind; readonly fanIn: number };
  linear: Record<string, never>;
  embedding: Record<string, never>;
  rmsnorm: { readonly eps: number };
  layernorm: { readonly eps: number };
  activation: { readonly fn: Activation };
  add: Record<string, never>;
  sub: Record<string, never>;
  mul: Record<string, never>;
  scale: { readonly factor: number };
  scale_rows: Record<string, never>;
  /**
   * Rotary positions over `heads` heads; `interleaved` rotates the pairs (2i, 2i+1) and writes
   * them to (i, i + half) (DeepSeek's rope_interleave: the de-interleaved layout of its code).
   */
  rope: {
    readonly heads: number;
    readonly base: number;
    readonly interleaved?: boolean;
    /** Scaled rope (rope_scaling): each pair's inverse frequency, and a factor on cos and sin. */
    readonly invFreq?: readonly number[];
    readonly attentionFactor?: number;
  };
  slice_cols: { readonly start: number; readonly width: number };
  concat_cols: Record<string, never>;
  repeat_rows: { readonly times: number };
  /**
   * A persistent buffer of the plan (a KV cache): zero when a session starts, kept between runs,
   * written in place by kv_write. Bound by the runtime like a weight.
   */
  state: { readonly name: string };
  /** Writes row t of the new rows into row positions[t] of a cache, in place; outputs the cache. */
  kv_write: Record<string, never>;
  /** Attention of new queries over a cache: query t sees cache rows 0..positions[t]. */
  cached_attention: { readonly heads: number; readonly kvHeads: number; readonly scale?: number };
  /** Causal attention; query head h reads key/value head ⌊h·kvHeads/heads⌋ (default: heads). */
  attention: { readonly heads: number; readonly kvHeads?: number; readonly scale?: number };
  split: { readonly heads: number };
  join: { readonly heads: number };
  route: { readonly topK: number; readonly gating: Gating };
  /**
   * DeepSeek-V3's router: sigmoid scores s; the top k of s + bias (the bias only selects) among
   * the `topkGroups` of `groups` expert groups with the largest sums of their two best; gates s,
   * renormalised over the k when `renorm`, times `scale` (the routed scaling factor).
   */
  route_grouped: {
    readonly topK: number;
    readonly groups: number;
    readonly topkGroups: number;
    readonly renorm: boolean;
    readonly scale: number;
  };
  /** The capacity limit of a router (plan/capacity.ts: rule, capacity, admission order). */
  capacity: { readonly experts: number } & CapacityLimit;
  /** X-MoE router logits: cosine of a projected row and each expert embedding over τ. */
  cosine_logits: Record<string, never>;
  expert_up: { readonly act: Activation; readonly gated: boolean; readonly bias: boolean };
  expert_down: { readonly bias: boolean };
  combine: Record<string, never>;
  route_stats: { readonly experts: number; readonly heads: number };

  // BitNet b1.58 layers (ops/bitnet.ts, plan/bitnet.ts).
  /** Per-row absmax quantisation to int8: q i8[..., d] and the dequantisation factors f32[...]. */
  act_quant: Record<string, never>;
  /** (Σ q·t) · (x scale · γ) + b over int8 activations and ternary (t2) weights. */
  bitlinear: Record<string, never>;
  /** expert_up over int8 activations and stacked ternary weights. */
  bit_expert_up: { readonly act: Activation; readonly gated: boolean; readonly bias: boolean };
  /** expert_down over int8 hidden rows and stacked ternary weights. */
  bit_expert_down: { readonly bias: boolean };
  /**
   * Training (compiler/autodiff/straightThrough.ts): act_quant's values dequantised, q · scale,
   * and a ternary weight γ·RoundClip(W/γ) from its f32 master; both pass gradients straight through.
   */
  act_quant_ste: Record<string, never>;
  weight_quant_ste: Record<string, never>;

  // Fused ops, made by the optimiser's passes (compiler/passes); never by lowering.
  /** A linear layer with its elementwise epilogue: act(x·Wᵀ + b) + residual. */
  linear_epilogue: {
    readonly bias: boolean;
    readonly act: Activation | "none";
    readonly residual: boolean;
  };
  /** A gated (SwiGLU-style) pair of linears in one pass over x: act(x·Wgᵀ) ⊙ (x·Wuᵀ). */
  linear_glu: { readonly act: Activation };
  /** Router logits, softmax, top-k and gates in one pass; the split into sub-tokens is a view. */
  moe_route: {
    readonly topK: number;
    readonly gating: Gating;
    /** X-MoE: inputs are the projected rows, the expert embeddings and the temperature. */
    readonly cosine: boolean;
  };
  /**
   * Counting sort of the (row, choice) assignments by expert, applying the capacity limit, with
   * the kept counts. Outputs: segment offsets [E+1]; `order` [N·k], the kept assignments
   * expert by expert (choice-major, then row, inside a segment), then the dropped ones in the
   * same order; the kept
   * expert of each assignment (-1 = dropped); counts [heads, E]; dropped [heads].
   */
  moe_permute: { readonly experts: number } & CapacityLimit & { readonly heads: number };
  /** The load-balancing statistics of a router: top-1 counts and probability sums per expert. */
  route_balance: Record<string, never>;
  /** Grouped GEMM over the expert segments, gathering input rows by index: H = act(x W1ᵀ + b1). */
  moe_grouped_up: { readonly act: Activation; readonly gated: boolean; readonly bias: boolean };
  /** Grouped GEMM 2: slots[a] = gate[a] · (H W2ᵀ + b2), written back to assignment a. */
  moe_grouped_down: { readonly bias: boolean };
  /** The combine read while loading the consumer: join_h(Σ_j slots) · Wᵀ + b. */
  combine_linear: { readonly heads: number; readonly bias: boolean };
  /** The combine fused into the residual add: residual + join_h(Σ_j slots). */
  combine_add: { readonly heads: number };
  /** Backward of the expert bank over the expert segments (ops/fusedMoeGrad.ts). */
  moe_grouped_weight_grad: { readonly experts: number };
  moe_grouped_backprop: Record<string, never>;
  moe_grouped_up_grad: {
    readonly act: Activation;
    readonly gated: boolean;
    readonly bias: boolean;
  };
  moe_down_grad: Record<string, never>;
  moe_gate_bias_grad: Record<string, never>;

  // Backward ops: the gradient rules (`grad`) of the entries above emit them
  // (ops/denseGrad.ts, ops/attentionGrad.ts, ops/moeGrad.ts), and the losses (ops/loss.ts).
  linear_grad_input: Record<string, never>;
  linear_grad_weight: Record<string, never>;
  sum_rows: Record<string, never>;
  embedding_grad: { readonly vocab: number };
  activation_grad: { readonly fn: Activation };
  norm_grad_input: { readonly kind: NormKind; readonly eps: number };
  norm_grad_weight: { readonly kind: NormKind; readonly eps: number };
  /** The inverse rotation of a rope node, with that node's attributes. */
  rope_grad: OpAttrs["rope"];
  attention_stats: OpAttrs["attention"];
  attention_grad: OpAttrs["attention"];
  route_grad: { readonly topK: number; readonly gating: Gating };
  /** dLogits of route_grouped: through the chosen sigmoid gates (and renormalisation), probs. */
  route_grouped_grad: { readonly topK: number; readonly renorm: boolean; readonly scale: number };
  /** x placed in columns start..start+width of a zero matrix `total` wide (slice_cols' grad). */
  pad_cols: { readonly start: number; readonly total: number };
  /** dx[r] = Σ_{t < times} dy[r·times + t], t ascending (repeat_rows' grad). */
  repeat_rows_grad: { readonly times: number };
  /** y[r, 0] = Σ_c a[r, c] · b[r, c], c ascending (scale_rows' factor gradient). */
  row_dot: Record<string, never>;
  cosine_logits_grad: Record<string, never>;
  capacity_grad: Record<string, never>;
  expert_up_grad: { readonly act: Activation; readonly gated: boolean; readonly bias: boolean };
  expert_backprop: { readonly sumChoices: boolean };
  expert_weight_grad: { readonly experts: number };
  expert_bias_grad: { readonly experts: number };
  expert_down_grad: { readonly bias: boolean };
  combine_grad: { readonly topK: number };
  fill: { readonly value: number; readonly shape: readonly number[] };
  cross_entropy: Record<string, never>;
  cross_entropy_grad: Record<string, never>;
  balance_loss: { readonly experts: number; readonly coef: number };
  balance_loss_grad: { readonly experts: number; readonly coef: number };
}

export type OpName = keyof OpAttrs;

/** A dense float64 tensor of the reference interpreter (i32 values are stored exactly). */
export interface RefTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export interface Cost {
  /** Multiply-adds of matrix products (the unit of the MoE parity papers). */
  readonly macs: number;
  /** All floating-point operations: 2 per multiply-add plus elementwise work. */
  readonly flops: number;
  /** Bytes read and written, counting each operand once. */
  readonly bytes: number;
}

export class ShapeError extends Error {}

export interface OpDef<K extends OpName> {
  /** Number of tensor inputs; a range where some are optional (biases). */
  readonly arity: readonly [min: number, max: number];
  /** Output types from input types, or a ShapeError with a user-facing message. */
  readonly infer: (inputs: readonly TensorType[], attrs: OpAttrs[K]) => TensorType[];
  /** Cost on concrete shapes. */
  readonly cost: (
    inputs: readonly number[][],
    outputs: readonly number[][],
    attrs: OpAttrs[K],
  ) => Cost;
  /** Float64 reference semantics; undefined for ops the interpreter binds (input, weight). */
  readonly evaluate?: (inputs: readonly RefTensor[], attrs: OpAttrs[K]) => RefTensor[];
  /** True for ops that only reinterpret their input's memory. */
  readonly view?: boolean;
  /** The input whose memory the (single) output is: the op writes it in place (kv_write). */
  readonly inPlace?: number;
  /**
   * Reverse-mode rule: the cotangents of the inputs from those of the outputs, built from IR ops
   * (compiler/autodiff). Absent for ops that are not differentiated: integer results and
   * statistics, the backward ops themselves, and fused ops (grad runs before fusion).
   */
  readonly grad?: GradRule<K>;
}

/** What a gradient rule sees of its node, and how it adds backward nodes to the graph. */
export interface GradContext<K extends OpName> {
  readonly attrs: OpAttrs[K];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  /** The cotangent of each output; undefined where no gradient flows into it. */
  readonly dOutputs: readonly (number | undefined)[];
  /** Which inputs want a cotangent (the rule may leave the others undefined). */
  readonly needs: readonly boolean[];
  readonly type: (value: number) => TensorType;
  /** Adds a node (shape-checked by its op's rule) and returns its outputs. */
  readonly emit: <Op extends OpName>(
    op: Op,
    inputs: readonly number[],
    attrs: OpAttrs[Op],
  ) => number[];
}

export type GradRule<K extends OpName> = (
  context: GradContext<K>,
) => readonly (number | undefined)[];

/** The entries of one op family; ops.ts assembles the families into the one table. */
export type OpFamily<K extends OpName> = { readonly [P in K]: OpDef<P> };
