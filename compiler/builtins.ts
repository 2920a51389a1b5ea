// Built-in layers: their hyper-parameters, range checks, weights (the weight-name contract of
// design.md section 3) and how a call lowers to IR ops. One entry per layer, by family in
// builtins/ (dense.ts, attention.ts, moe.ts; layer.ts says what an entry is); this module is the table.
import { Attention, MLAttention } from "./builtins/attention.js";
import { Embedding, FFN, Identity, LayerNorm, Linear, RMSNorm } from "./builtins/dense.js";
import type { BuiltinLayer } from "./builtins/layer.js";
import { Experts, Router } from "./builtins/moe.js";

export type {
  Args,
  BuiltinLayer,
  BuiltinParam,
  CallContext,
  WeightDecl,
} from "./builtins/layer.js";
export { QUANTS, type Quant } from "./builtins/dense.js";
export { checkRoutingMatchesBank } from "./builtins/moe.js";

export const BUILTIN_LAYERS: ReadonlyMap<string, BuiltinLayer> = new Map(
  [
    Linear,
    Embedding,
    RMSNorm,
    LayerNorm,
    Attention,
    MLAttention,
    FFN,
    Router,
    Experts,
    Identity,
  ].map((l) => [l.name, l]),
);
