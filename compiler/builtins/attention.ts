// Built-in attention layers: multi-head attention with rotary positions (grouped-query, q/k
// norms, q/k/v biases) and DeepSeek's multi-head latent attention. Lowered for generation
// (CallContext.decode), both keep a KV cache and read the tokens' positions.
import { epsCheck, linear, linearWeights } from "./dense.js";
import { ropeScaling, ropeScalingCheck, ropeScalingParams, yarnMscale } from "./rope.js";
import {
  bool,
  type BuiltinLayer,
  type CallContext,
  float,
  inputTensor,
  int,
  oneOf,
  positive,
  string,
  tensor,
  type WeightDecl,
} from "./layer.js";

/** Where an attention layer normalises its queries and keys (Qwen3: per head; OLMoE: whole). */
const QK_NORMS = ["none", "head", "full"] as const;

/**
 * Causal attention with rotary positions: `kv_heads` key/value heads shared by groups of query
 * heads (grouped-query attention), heads of `head_dim`, optional q/k/v biases (Qwen2) and RMS
 * norms of the queries and keys (`qk_norm`).
 */
export const Attention: BuiltinLayer = {
  name: "Attention",
  params: [
    int("dim"),
    int("heads"),
    bool("rope", () => true),
    float("rope_base", 10000),
    int("kv_heads", (a) => a.int("heads")),
    int("head_dim", (a) => (a.int("heads") > 0 ? Math.floor(a.int("dim") / a.int("heads")) : 0)),
    bool("qkv_bias", () => false),
    string("qk_norm", "none"),
    float("eps", 1e-6),
    ...ropeScalingParams,
  ],
  validate: (a) => {
    const problems = positive(a, "dim", "heads", "kv_heads", "head_dim");
    if (problems.length > 0) return problems;
    const [dim, heads] = [a.int("dim"), a.int("heads")];
    if (dim % heads !== 0 && a.int("head_dim") === Math.floor(dim / heads))
      return [["heads", `dim (${dim}) must be divisible by heads (${heads})`]];
    if (a.int("heads") % a.int("kv_heads") !== 0)
      return [
        [
          "kv_heads",
          `heads (${a.int("heads")}) must be a multiple of kv_heads (${a.int("kv_heads")})`,
        ],
      ];
    if (a.bool("rope") && a.int("head_dim") % 2 !== 0)
      return [["heads", `rotary positions need an even head width, got ${a.int("head_dim")}`]];
    problems.push(...oneOf(a, "qk_norm", QK_NORMS), ...epsCheck(a), ...ropeScalingCheck(a));
    return a.float("rope_base") > 1
      ? problems
      : [...problems, ["rope_base", "rope_base must be greater than 1"]];
  },
  weights: (a) => {
    const [d, hd, bias] = [a.int("dim"), a.int("head_dim"), a.bool("qkv_bias")];
    const [qd, kvd] = [a.int("heads") * hd, a.int("kv_heads") * hd];
    const norm = (name: string, width: number): WeightDecl => ({
      suffix: `${name}.weight`,
      shape: [width],
      init: "norm_weight",
      fanIn: width,
    });
    const qkNorm = a.string("qk_norm");
    return [
      ...linearWeights("q_proj.", qd, d, bias),
      ...linearWeights("k_proj.", kvd, d, bias),
      ...linearWeights("v_proj.", kvd, d, bias),
      ...linearWeights("o_proj.", d, qd, false),
      ...(qkNorm === "none"
        ? []
        : [
            norm("q_norm", qkNorm === "head" ? hd : qd),
            norm("k_norm", qkNorm === "head" ? hd : kvd),
          ]),
    ];
  },
  inputs: ["tensor"],
  call: (ctx, inputs) => {
    const x = inputTensor(inputs);
    const { args } = ctx;
    const [heads, kvHeads] = [args.int("heads"), args.int("kv_heads")];
    const bias = args.bool("qkv_bias");
    const eps = args.float("eps");
    // Per head: the rows split into heads are normalised on their own (split/join are views).
    const qkNorm = (y: number, name: string, n: number): number => {
      const w = ctx.weight(`${name}.weight`);
      if (args.string("qk_norm") === "full") return ctx.op("rmsnorm", [y, w], { eps })[0]!;
      const perHead = ctx.op("rmsnorm", [ctx.op("split", [y], { heads: n })[0]!, w], { eps })[0]!;
      return ctx.op("join", [perHead], { heads: n })[0]!;
    };
    let q = linear(ctx, x, "q_proj.", bias);
    let k = linear(ctx, x, "k_proj.", bias);
    const v = linear(ctx, x, "v_proj.", bias);
    if (args.string("qk_norm") !== "none") {
      q = qkNorm(q, "q_norm", heads);
      k = qkNorm(k, "k_norm", kvHeads);
    }
    const positions = decodePositions(ctx, x);
    if (args.bool("rope")) {
      const base = args.float("rope_base");
      const scaled = ropeScaling(args, args.int("head_dim"), base);
      q = ctx.op("rope", [q, ...positions], { heads, base, ...scaled })[0]!;
      k = ctx.op("rope", [k, ...positions], { heads: kvHeads, base, ...scaled })[0]!;
    }
    return tensor(linear(ctx, attend(ctx, q, k, v, heads, kvHeads), "o_proj.", false));
  },
};

/**
 * DeepSeek's multi-head latent attention (DeepSeek-V2/V3), as its Hugging Face code computes it:
 * queries from x (or through a low-rank q_a/q_b pair), keys and values from a shared low-rank
 * latent plus one rotary key shared by all heads. Built from IR ops (column slices, per-head
 * views, a repeated row), so the attention itself is the ordinary op with its own value width.
 */
export const MLAttention: BuiltinLayer = {
  name: "MLAttention",
  params: [
    int("dim"),
    int("heads"),
    int("kv_lora_rank"),
    int("qk_nope_dim"),
    int("qk_rope_dim"),
    int("v_head_dim"),
    int("q_lora_rank", () => 0),
    float("rope_base", 10000),
    bool("rope_interleave", () => true),
    float("eps", 1e-6),
    ...ropeScalingParams,
  ],
  validate: (a) => {
    const problems = positive(
      a,
      "dim",
      "heads",
      "kv_lora_rank",
      "qk_nope_dim",
      "qk_rope_dim",
      "v_head_dim",
    );
    if (a.int("q_lora_rank") < 0)
      problems.push(["q_lora_rank", "q_lora_rank must be 0 (no low-rank queries) or positive"]);
    if (a.int("qk_rope_dim") % 2 !== 0)
      problems.push([
        "qk_rope_dim",
        `rotary positions need an even width, got ${a.int("qk_rope_dim")}`,
      ]);
    if (!(a.float("rope_base") > 1))
      problems.push(["rope_base", "rope_base must be greater than 1"]);
    return [...problems, ...epsCheck(a), ...ropeScalingCheck(a)];
  },
  weights: (a) => {
    const [d, h, lora, qLora] = [
      a.int("dim"),
      a.int("heads"),
      a.int("kv_lora_rank"),
      a.int("q_lora_rank"),
    ];
    const [nope, rope, v] = [a.int("qk_nope_dim"), a.int("qk_rope_dim"), a.int("v_head_dim")];
    const matrix = (name: string, out: number, inn: number): WeightDecl => ({
      suffix: `${name}.weight`,
      shape: [out, inn],
      init: "linear",
      fanIn: inn,
    });
    const norm = (name: string, width: number): WeightDecl => ({
      suffix: `${name}.weight`,
      shape: [width],
      init: "norm_weight",
      fanIn: width,
    });
    const queries =
      qLora === 0
        ? [matrix("q_proj", h * (nope + rope), d)]
        : [
            matrix("q_a_proj", qLora, d),
            norm("q_a_layernorm", qLora),
            matrix("q_b_proj", h * (nope + rope), qLora),
          ];
    return [
      ...queries,
      matrix("kv_a_proj_with_mqa", lora + rope, d),
      norm("kv_a_layernorm", lora),
      matrix("kv_b_proj", h * (nope + v), lora),
      matrix("o_proj", d, h * v),
    ];
  },
  inputs: ["tensor"],
  call: (ctx, inputs) => {
    const x = inputTensor(inputs);
    const { args } = ctx;
    const heads = args.int("heads");
    const [nope, rope, v, lora] = ["qk_nope_dim", "qk_rope_dim", "v_head_dim", "kv_lora_rank"].map(
      (n) => args.int(n),
    ) as [number, number, number, number];
    const eps = args.float("eps");
    const op = (name: Parameters<CallContext["op"]>[0], ins: number[], attrs: object = {}) =>
      ctx.op(name, ins, attrs as never)[0]!;
    const cols = (m: number, start: number, width: number) =>
      op("slice_cols", [m], { start, width });
    const positions = decodePositions(ctx, x);
    const rotate = (m: number, h: number) =>
      op("rope", [m, ...positions], {
        heads: h,
        base: args.float("rope_base"),
        interleaved: args.bool("rope_interleave"),
        ...ropeScaling(args, rope, args.float("rope_base")),
      });

    const q =
      args.int("q_lora_rank") === 0
        ? linear(ctx, x, "q_proj.", false)
        : linear(
            ctx,
            op(
              "rmsnorm",
              [linear(ctx, x, "q_a_proj.", false), ctx.weight("q_a_layernorm.weight")],
              { eps },
            ),
            "q_b_proj.",
            false,
          );
    // Per head (rows t·heads + h): the position-free part and the rotary part of each query.
    const qHeads = op("split", [q], { heads });
    const qRot = op("split", [rotate(op("join", [cols(qHeads, nope, rope)], { heads }), heads)], {
      heads,
    });
    const query = op("join", [op("concat_cols", [cols(qHeads, 0, nope), qRot])], { heads });

    const latent = linear(ctx, x, "kv_a_proj_with_mqa.", false);
    const kv = linear(
      ctx,
      op("rmsnorm", [cols(latent, 0, lora), ctx.weight("kv_a_layernorm.weight")], { eps }),
      "kv_b_proj.",
      false,
    );
    const kvHeads = op("split", [kv], { heads });
    // One rotary key per token, shared by every head.
    const kRot = op("repeat_rows", [rotate(cols(latent, lora, rope), 1)], { times: heads });
    const key = op("join", [op("concat_cols", [cols(kvHeads, 0, nope), kRot])], { heads });
    const value = op("join", [cols(kvHeads, nope, v)], { heads });

    // DeepSeek's yarn also sharpens the softmax: its scale times mscale(factor, mscale_all_dim)².
    const stretch =
      args.string("rope_type") === "default" || !args.float("rope_mscale_all_dim")
        ? 1
        : yarnMscale(args.float("rope_factor"), args.float("rope_mscale_all_dim")) ** 2;
    const scale = stretch === 1 ? undefined : stretch / Math.sqrt(nope + rope);
    return tensor(
      linear(ctx, attend(ctx, query, key, value, heads, heads, scale), "o_proj.", false),
    );
  },
};

/** The `positions` input as a list of inputs for rope: empty unless lowering for generation. */
function decodePositions(ctx: CallContext, x: number): number[] {
  return ctx.decode ? [ctx.decode.positions(ctx.builder.type(x).shape[0]!)] : [];
}

/**
 * Causal attention of q over k, v; when generating, k and v first go into this layer's caches at
 * the tokens' positions and the queries attend over everything written so far.
 */
function attend(
  ctx: CallContext,
  q: number,
  k: number,
  v: number,
  heads: number,
  kvHeads: number,
  scale?: number,
): number {
  const decode = ctx.decode;
  const scaled = scale === undefined ? {} : { scale };
  if (!decode) {
    const grouped = kvHeads === heads ? { heads } : { heads, kvHeads };
    return ctx.op("attention", [q, k, v], { ...grouped, ...scaled })[0]!;
  }
  const positions = decodePositions(ctx, q)[0]!;
  const cached = (rows: number, name: string) => {
    const width = ctx.builder.type(rows).shape[1] as number;
    return ctx.op(
      "kv_write",
      [rows, positions, decode.state(name, [decode.context, width])],
      {},
    )[0]!;
  };
  const [kc, vc] = [cached(k, "k_cache"), cached(v, "v_cache")];
  return ctx.op("cached_attention", [q, kc, vc, positions], { heads, kvHeads, ...scaled })[0]!;
}
