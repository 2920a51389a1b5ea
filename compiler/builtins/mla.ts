// DeepSeek's multi-head latent attention (DeepSeek-V2/V3), as its Hugging Face code computes it:
// queries from x (or through a low-rank q_a/q_b pair), keys and values from a shared low-rank
// latent plus one rotary key shared by all heads. Built from IR ops (column slices, per-head
// views, a repeated row), so the attention itself is the ordinary op with its own value width.
import { epsCheck, linear } from "./dense.js";
import {
  bool,
  type BuiltinLayer,
  type CallContext,
  float,
  inputTensor,
  int,
  positive,
  tensor,
  type WeightDecl,
} from "./layer.js";

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
  ],
  validate: (a) => {
    const problems = positive(a, "dim", "heads", "kv_lora_rank", "qk_nope_dim", "qk_rope_dim", "v_head_dim");
    if (a.int("q_lora_rank") < 0) problems.push(["q_lora_rank", "q_lora_rank must be 0 (no low-rank queries) or positive"]);
    if (a.int("qk_rope_dim") % 2 !== 0) problems.push(["qk_rope_dim", `rotary positions need an even width, got ${a.int("qk_rope_dim")}`]);
    if (!(a.float("rope_base") > 1)) problems.push(["rope_base", "rope_base must be greater than 1"]);
    return [...problems, ...epsCheck(a)];
  },
  weights: (a) => {
    const [d, h, lora, qLora] = [a.int("dim"), a.int("heads"), a.int("kv_lora_rank"), a.int("q_lora_rank")];
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
        : [matrix("q_a_proj", qLora, d), norm("q_a_layernorm", qLora), matrix("q_b_proj", h * (nope + rope), qLora)];
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
    const [nope, rope, v, lora] = ["qk_nope_dim", "qk_rope_dim", "v_head_dim", "kv_lora_rank"].map((n) => args.int(n)) as [number, number, number, number];
    const eps = args.float("eps");
    const op = (name: Parameters<CallContext["op"]>[0], ins: number[], attrs: object = {}) =>
      ctx.op(name, ins, attrs as never)[0]!;
    const cols = (m: number, start: number, width: number) => op("slice_cols", [m], { start, width });
    const positions = ctx.decode && [ctx.decode.positions(ctx.builder.type(x).shape[0]!)];
    const rotate = (m: number, h: number) =>
      op("rope", [m, ...(positions ?? [])], { heads: h, base: args.float("rope_base"), interleaved: args.bool("rope_interleave") });

    const q =
      args.int("q_lora_rank") === 0
        ? linear(ctx, x, "q_proj.", false)
        : linear(ctx, op("rmsnorm", [linear(ctx, x, "q_a_proj.", false), ctx.weight("q_a_layernorm.weight")], { eps }), "q_b_proj.", false);
    // Per head (rows t·heads + h): the position-free part and the rotary part of each query.
    const qHeads = op("split", [q], { heads });
    const qRot = op("split", [rotate(op("join", [cols(qHeads, nope, rope)], { heads }), heads)], { heads });
    const query = op("join", [op("concat_cols", [cols(qHeads, 0, nope), qRot])], { heads });

    const latent = linear(ctx, x, "kv_a_proj_with_mqa.", false);
    const kv = linear(ctx, op("rmsnorm", [cols(latent, 0, lora), ctx.weight("kv_a_layernorm.weight")], { eps }), "kv_b_proj.", false);
    const kvHeads = op("split", [kv], { heads });
    // One rotary key per token, shared by every head.
    const kRot = op("repeat_rows", [rotate(cols(latent, lora, rope), 1)], { times: heads });
    const key = op("join", [op("concat_cols", [cols(kvHeads, 0, nope), kRot])], { heads });
    const value = op("join", [cols(kvHeads, nope, v)], { heads });

    let attended: number;
    if (ctx.decode) {
      const decode = ctx.decode;
      const cached = (rows: number, name: string) => {
        const cache = decode.state(name, [decode.context, ctx.builder.type(rows).shape[1] as number]);
        return op("kv_write", [rows, positions![0]!, cache]);
      };
      attended = op("cached_attention", [query, cached(key, "k_cache"), cached(value, "v_cache"), positions![0]!], { heads, kvHeads: heads });
    } else attended = op("attention", [query, key, value], { heads });
    return tensor(linear(ctx, attended, "o_proj.", false));
  },
};
