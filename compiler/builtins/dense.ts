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
  string,
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
  params: [
    int("in_features"),
    int("out_features"),
    bool("bias", () => true),
    quantParam,
    // The full name of an earlier weight to share (`tie = "model.embed_tokens.weight"`).
    string("tie", ""),
  ],
  validate: (a) => [
    ...positive(a, "in_features", "out_features"),
    ...quantCheck(a),
    ...(a.string("tie") !== "" && (a.bool("bias") || a.string("quant") !== "none")
      ? [["tie", "a tied Linear has no bias and no quantisation"] as [string, string]]
      : []),
  ],
  weights: (a) =>
    a.string("tie") === ""
      ? linearWeights("", a.int("out_features"), a.int("in_features"), a.bool("bias"), ternary(a))
      : [
          {
            suffix: "weight",
            shape: [a.int("out_features"), a.int("in_features")],
            init: "linear",
            fanIn: a.int("in_features"),
            tie: a.string("tie"),
          },
        ],
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

/**
 * The names of a feed-forward block's projections, so a spec can name its weights as a checkpoint
 * does (`proj_names = "w1,w3,w2"` for Mixtral's experts): gate, up, down when gated, else
 * fc1, fc2. Empty: those defaults.
 */
export const projNamesParam: BuiltinParam = {
  name: "proj_names",
  type: "string",
  default: () => ({ kind: "string", value: "" }),
};

export function projNames(a: Args): string[] {
  const given = a.string("proj_names");
  if (given !== "") return given.split(",").map((n) => n.trim());
  return a.bool("gated") ? ["gate", "up", "down"] : ["fc1", "fc2"];
}

export function projNamesCheck(a: Args): [string, string][] {
  const names = projNames(a);
  const count = a.bool("gated") ? 3 : 2;
  const valid = names.every((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  return names.length === count && valid && new Set(names).size === count
    ? []
    : [
        [
          "proj_names",
          `proj_names must be ${count} distinct names separated by commas (${a.bool("gated") ? "gate, up, down" : "fc1, fc2"}), got "${a.string("proj_names")}"`,
        ],
      ];
}

/** A dense feed-forward block, plain (fc1, fc2) or gated (gate, up, down). */
export const FFN: BuiltinLayer = {
  name: "FFN",
  params: [
    int("dim"),
    int("hidden"),
    act("act", "gelu"),
    bool("gated", () => false),
    bool("bias", (a) => !a.bool("gated")),
    projNamesParam,
  ],
  validate: (a) => [...positive(a, "dim", "hidden"), ...gatedBiasCheck(a), ...projNamesCheck(a)],
  weights: (a) => {
    const [d, f] = [a.int("dim"), a.int("hidden")];
    const names = projNames(a);
    return a.bool("gated")
      ? [
          ...linearWeights(`${names[0]}.`, f, d, false),
          ...linearWeights(`${names[1]}.`, f, d, false),
          ...linearWeights(`${names[2]}.`, d, f, false),
        ]
      : [
          ...linearWeights(`${names[0]}.`, f, d, a.bool("bias")),
          ...linearWeights(`${names[1]}.`, d, f, a.bool("bias")),
        ];
  },
  inputs: ["tensor"],
  call: (ctx, inputs) => {
    const x = inputTensor(inputs);
    const fn = ctx.args.act("act");
    const names = projNames(ctx.args);
    if (ctx.args.bool("gated")) {
      const g = ctx.op("activation", [linear(ctx, x, `${names[0]}.`, false)], { fn })[0]!;
      const h = ctx.op("mul", [g, linear(ctx, x, `${names[1]}.`, false)], {})[0]!;
      return tensor(linear(ctx, h, `${names[2]}.`, false));
    }
    const bias = ctx.args.bool("bias");
    const h = ctx.op("activation", [linear(ctx, x, `${names[0]}.`, bias)], { fn })[0]!;
    return tensor(linear(ctx, h, `${names[1]}.`, bias));
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
