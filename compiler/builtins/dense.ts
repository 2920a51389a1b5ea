// Built-in dense layers: Linear (optionally BitNet b1.58), Embedding, the norms, attention, the
// FFN, and Identity.
import {
  act,
  type Args,
  bool,
  type BuiltinLayer,
  type BuiltinParam,
  type CallContext,
  float,
  gatedBiasCheck,
  inputTensor,
  int,
  positive,
  tensor,
  type WeightDecl,
} from "./layer.js";

/** Weight quantisation of Linear and Experts: none, or BitNet b1.58 (arXiv 2402.17764). */
export const QUANTS = ["none", "b1.58"] as const;

export type Quant = (typeof QUANTS)[number];

export const quantParam: BuiltinParam = {
  name: "quant",
  type: "string",
  default: () => ({ kind: "string", value: "none" }),
};

export function quantCheck(a: Args): [string, string][] {
  return (QUANTS as readonly string[]).includes(a.string("quant"))
    ? []
    : [
        [
          "quant",
          `quant must be one of ${QUANTS.map((q) => `"${q}"`).join(", ")}, got "${a.string("quant")}"`,
        ],
      ];
}

export const ternary = (a: Args): { dtype?: "t2" } =>
  a.string("quant") === "b1.58" ? { dtype: "t2" } : {};

export const linearWeights = (
  prefix: string,
  out: number,
  inn: number,
  bias: boolean,
  quant: { dtype?: "t2" } = {},
): WeightDecl[] => [
  { suffix: `${prefix}weight`, shape: [out, inn], init: "linear", fanIn: inn, ...quant },
  ...(bias ? [{ suffix: `${prefix}bias`, shape: [out], init: "bias" as const, fanIn: inn }] : []),
];

export function linear(ctx: CallContext, x: number, prefix: string, bias: boolean): number {
  const inputs = [x, ctx.weight(`${prefix}weight`)];
  if (bias) inputs.push(ctx.weight(`${prefix}bias`));
  return ctx.op("linear", inputs, {})[0]!;
}

/** A BitNet linear layer: int8 activations (per-row absmax) times ternary weights. */
export function bitLinear(ctx: CallContext, x: number, prefix: string, bias: boolean): number {
  const [q, scale] = ctx.op("act_quant", [x], {}) as [number, number];
  const inputs = [q, scale, ctx.weight(`${prefix}weight`)];
  if (bias) inputs.push(ctx.weight(`${prefix}bias`));
  return ctx.op("bitlinear", inputs, {})[0]!;
}

export const Linear: BuiltinLayer = {
  name: "Linear",
  params: [int("in_features"), int("out_features"), bool("bias", () => true), quantParam],
  validate: (a) => [...positive(a, "in_features", "out_features"), ...quantCheck(a)],
  weights: (a) =>
    linearWeights("", a.int("out_features"), a.int("in_features"), a.bool("bias"), ternary(a)),
  inputs: ["tensor"],
  call: (ctx, inputs) => {
    const quantised = ctx.args.string("quant") === "b1.58";
    return tensor(
      (quantised ? bitLinear : linear)(ctx, inputTensor(inputs), "", ctx.args.bool("bias")),
    );
  },
};

export const Embedding: BuiltinLayer = {
  name: "Embedding",
  params: [int("vocab"), int("dim")],
  validate: (a) => positive(a, "vocab", "dim"),
  weights: (a) => [
    {
      suffix: "weight",
      shape: [a.int("vocab"), a.int("dim")],
      init: "embedding",
      fanIn: a.int("dim"),
    },
  ],
  inputs: ["tensor"],
  call: (ctx, inputs) =>
    tensor(ctx.op("embedding", [inputTensor(inputs), ctx.weight("weight")], {})[0]!),
};

export const RMSNorm: BuiltinLayer = {
  name: "RMSNorm",
  params: [int("dim"), float("eps", 1e-6)],
  validate: (a) => [...positive(a, "dim"), ...epsCheck(a)],
  weights: (a) => [
    { suffix: "weight", shape: [a.int("dim")], init: "norm_weight", fanIn: a.int("dim") },
  ],
  inputs: ["tensor"],
  call: (ctx, inputs) =>
    tensor(
      ctx.op("rmsnorm", [inputTensor(inputs), ctx.weight("weight")], {
        eps: ctx.args.float("eps"),
      })[0]!,
    ),
};

export const LayerNorm: BuiltinLayer = {
  name: "LayerNorm",
  params: [int("dim"), float("eps", 1e-5)],
  validate: (a) => [...positive(a, "dim"), ...epsCheck(a)],
  weights: (a) => [
    { suffix: "weight", shape: [a.int("dim")], init: "norm_weight", fanIn: a.int("dim") },
    { suffix: "bias", shape: [a.int("dim")], init: "norm_bias", fanIn: a.int("dim") },
  ],
  inputs: ["tensor"],
  call: (ctx, inputs) =>
    tensor(
      ctx.op("layernorm", [inputTensor(inputs), ctx.weight("weight"), ctx.weight("bias")], {
        eps: ctx.args.float("eps"),
      })[0]!,
    ),
};

export function epsCheck(a: Args): [string, string][] {
  return a.float("eps") > 0 && a.float("eps") < 1
    ? []
    : [["eps", `eps must be in (0, 1), got ${a.float("eps")}`]];
}

export const Attention: BuiltinLayer = {
  name: "Attention",
  params: [int("dim"), int("heads"), bool("rope", () => true), float("rope_base", 10000)],
  validate: (a) => {
    const problems = positive(a, "dim", "heads");
    if (problems.length > 0) return problems;
    if (a.int("dim") % a.int("heads") !== 0)
      return [["heads", `dim (${a.int("dim")}) must be divisible by heads (${a.int("heads")})`]];
    if (a.bool("rope") && (a.int("dim") / a.int("heads")) % 2 !== 0)
      return [
        ["heads", `rotary positions need an even head width, got ${a.int("dim") / a.int("heads")}`],
      ];
    return a.float("rope_base") > 1 ? [] : [["rope_base", "rope_base must be greater than 1"]];
  },
  weights: (a) =>
    ["q_proj", "k_proj", "v_proj", "o_proj"].flatMap((p) =>
      linearWeights(`${p}.`, a.int("dim"), a.int("dim"), false),
    ),
  inputs: ["tensor"],
  call: (ctx, inputs) => {
    const x = inputTensor(inputs);
    const heads = ctx.args.int("heads");
    let q = linear(ctx, x, "q_proj.", false);
    let k = linear(ctx, x, "k_proj.", false);
    const v = linear(ctx, x, "v_proj.", false);
    if (ctx.args.bool("rope")) {
      const rope = { heads, base: ctx.args.float("rope_base") };
      q = ctx.op("rope", [q], rope)[0]!;
      k = ctx.op("rope", [k], rope)[0]!;
    }
    const a = ctx.op("attention", [q, k, v], { heads })[0]!;
    return tensor(linear(ctx, a, "o_proj.", false));
  },
};

/** A dense feed-forward block, plain (fc1, fc2) or gated (gate, up, down). */
export const FFN: BuiltinLayer = {
  name: "FFN",
  params: [
    int("dim"),
    int("hidden"),
    act("act", "gelu"),
    bool("gated", () => false),
    bool("bias", (a) => !a.bool("gated")),
  ],
  validate: (a) => [...positive(a, "dim", "hidden"), ...gatedBiasCheck(a)],
  weights: (a) => {
    const [d, f] = [a.int("dim"), a.int("hidden")];
    return a.bool("gated")
      ? [
          ...linearWeights("gate.", f, d, false),
          ...linearWeights("up.", f, d, false),
          ...linearWeights("down.", d, f, false),
        ]
      : [
          ...linearWeights("fc1.", f, d, a.bool("bias")),
          ...linearWeights("fc2.", d, f, a.bool("bias")),
        ];
  },
  inputs: ["tensor"],
  call: (ctx, inputs) => {
    const x = inputTensor(inputs);
    const fn = ctx.args.act("act");
    if (ctx.args.bool("gated")) {
      const g = ctx.op("activation", [linear(ctx, x, "gate.", false)], { fn })[0]!;
      const h = ctx.op("mul", [g, linear(ctx, x, "up.", false)], {})[0]!;
      return tensor(linear(ctx, h, "down.", false));
    }
    const bias = ctx.args.bool("bias");
    const h = ctx.op("activation", [linear(ctx, x, "fc1.", bias)], { fn })[0]!;
    return tensor(linear(ctx, h, "fc2.", bias));
  },
};

/** A layer that passes its input through; lets a spec switch a projection off (ablations). */
export const Identity: BuiltinLayer = {
  name: "Identity",
  params: [],
  validate: () => [],
  weights: () => [],
  inputs: ["tensor"],
  call: (_ctx, inputs) => tensor(inputTensor(inputs)),
};
