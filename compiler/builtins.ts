// Built-in layers: their hyper-parameters, range checks, weights (the weight-name contract of
// design.md section 3) and how a call lowers to IR ops. One entry per layer.
import type { HyperType } from "../grammar/ast.js";
import type { GraphBuilder } from "./ir/graph.js";
import {
  type Activation,
  type Gating,
  GATINGS,
  type InitKind,
  type OpAttrs,
  type OpName,
} from "./ir/ops.js";
import type { Dim } from "./ir/types.js";
import {
  ADMISSIONS,
  type Admission,
  CAPACITY_RULES,
  type CapacityLimit,
  type CapacityRule,
  isDropless,
} from "../plan/capacity.js";
import type { Routing, Value } from "./values.js";
import { stackedExpertName } from "../plan/weightNames.js";

export interface BuiltinParam {
  readonly name: string;
  readonly type: HyperType;
  /** Default from the arguments bound so far; absent means required. */
  readonly default?: (args: Args) => Value;
}

export interface WeightDecl {
  /** Suffix after the instance path; stacked expert tensors are named by stackedExpertName. */
  readonly suffix: string;
  readonly shape: readonly number[];
  /** Default f32; t2 for the ternary weights of BitNet layers (plan/bitnet.ts). */
  readonly dtype?: "t2";
  readonly init: InitKind;
  readonly fanIn: number;
}

/** Read access to bound arguments, typed by the caller's expectation. */
export interface Args {
  int(name: string): number;
  float(name: string): number;
  bool(name: string): boolean;
  string(name: string): string;
  act(name: string): Activation;
}

/** What a call needs from the elaborator. */
export interface CallContext {
  readonly builder: GraphBuilder;
  readonly path: string;
  readonly args: Args;
  weight(suffix: string): number;
  /** Adds a node, attributing it to this instance; shape errors are reported at the call. */
  op<K extends OpName>(op: K, inputs: readonly number[], attrs: OpAttrs[K]): number[];
  /** Registers an MoE routing site for the runtime's statistics. */
  routingSite(
    routing: Routing,
    routed: number,
    kept: number,
    probs: number,
    /** Rows routed: T, or T·h after a split into sub-tokens. */
    rows: Dim,
  ): void;
}

export interface BuiltinLayer {
  readonly name: string;
  readonly params: readonly BuiltinParam[];
  /** Returns a message per invalid argument: [argument name, message]. */
  readonly validate: (args: Args) => [string, string][];
  readonly weights: (args: Args) => WeightDecl[];
  /** Number of inputs of a call and what they are, for messages. */
  readonly inputs: readonly ("tensor" | "routing")[];
  readonly call: (ctx: CallContext, inputs: readonly (number | Routing)[]) => Value;
}

const int = (name: string, def?: (a: Args) => number): BuiltinParam => ({
  name,
  type: "int",
  default: def && ((a) => ({ kind: "int", value: def(a) })),
});
const float = (name: string, def: number): BuiltinParam => ({
  name,
  type: "float",
  default: () => ({ kind: "float", value: def }),
});
const bool = (name: string, def: (a: Args) => boolean): BuiltinParam => ({
  name,
  type: "bool",
  default: (a) => ({ kind: "bool", value: def(a) }),
});
const string = (name: string, def: string): BuiltinParam => ({
  name,
  type: "string",
  default: () => ({ kind: "string", value: def }),
});
const act = (name: string, def: Activation): BuiltinParam => ({
  name,
  type: "act",
  default: () => ({ kind: "act", value: def }),
});

/** The largest fixed capacity: C must fit the kernels' u32 counters. */
const MAX_FIXED_CAPACITY = 2 ** 31 - 1;

function positive(args: Args, ...names: string[]): [string, string][] {
  return names
    .filter((n) => args.int(n) < 1)
    .map((n) => [n, `${n} must be a positive integer, got ${args.int(n)}`]);
}

/** Weight quantisation of Linear and Experts: none, or BitNet b1.58 (arXiv 2402.17764). */
export const QUANTS = ["none", "b1.58"] as const;
export type Quant = (typeof QUANTS)[number];

const quantParam: BuiltinParam = {
  name: "quant",
  type: "string",
  default: () => ({ kind: "string", value: "none" }),
};

function quantCheck(a: Args): [string, string][] {
  return (QUANTS as readonly string[]).includes(a.string("quant"))
    ? []
    : [
        [
          "quant",
          `quant must be one of ${QUANTS.map((q) => `"${q}"`).join(", ")}, got "${a.string("quant")}"`,
        ],
      ];
}

const ternary = (a: Args): { dtype?: "t2" } =>
  a.string("quant") === "b1.58" ? { dtype: "t2" } : {};

const linearWeights = (
  prefix: string,
  out: number,
  inn: number,
  bias: boolean,
  quant: { dtype?: "t2" } = {},
): WeightDecl[] => [
  { suffix: `${prefix}weight`, shape: [out, inn], init: "linear", fanIn: inn, ...quant },
  ...(bias ? [{ suffix: `${prefix}bias`, shape: [out], init: "bias" as const, fanIn: inn }] : []),
];

function linear(ctx: CallContext, x: number, prefix: string, bias: boolean): number {
  const inputs = [x, ctx.weight(`${prefix}weight`)];
  if (bias) inputs.push(ctx.weight(`${prefix}bias`));
  return ctx.op("linear", inputs, {})[0]!;
}

function tensor(v: number): Value {
  return { kind: "tensor", value: v };
}

const inputTensor = (inputs: readonly (number | Routing)[], i = 0): number => inputs[i] as number;

/** A BitNet linear layer: int8 activations (per-row absmax) times ternary weights. */
function bitLinear(ctx: CallContext, x: number, prefix: string, bias: boolean): number {
  const [q, scale] = ctx.op("act_quant", [x], {}) as [number, number];
  const inputs = [q, scale, ctx.weight(`${prefix}weight`)];
  if (bias) inputs.push(ctx.weight(`${prefix}bias`));
  return ctx.op("bitlinear", inputs, {})[0]!;
}

const Linear: BuiltinLayer = {
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

const Embedding: BuiltinLayer = {
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

const RMSNorm: BuiltinLayer = {
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

const LayerNorm: BuiltinLayer = {
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

function epsCheck(a: Args): [string, string][] {
  return a.float("eps") > 0 && a.float("eps") < 1
    ? []
    : [["eps", `eps must be in (0, 1), got ${a.float("eps")}`]];
}

const Attention: BuiltinLayer = {
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
const FFN: BuiltinLayer = {
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

function gatedBiasCheck(a: Args): [string, string][] {
  return a.bool("gated") && a.bool("bias")
    ? [["bias", "gated (SwiGLU) feed-forward layers have no bias"]]
    : [];
}

/**
 * The router: logits = x·Wᵀ, or with `xmoe = r > 0` X-MoE's (2404.15045 Table 9): the row is
 * projected to r dimensions and scored by cosine similarity with L2-normalised expert embeddings
 * over a learnable temperature. An option rather than a layer of its own because everything
 * after the logits (gating, top-k, capacity, statistics, the pairing with a bank) is shared, and
 * a library block switches routing with one argument.
 */
const Router: BuiltinLayer = {
  name: "Router",
  params: [
    int("dim"),
    int("experts"),
    int("top_k", () => 1),
    string("gating", "softmax"),
    float("capacity", 0),
    string("capacity_rule", "factor"),
    string("admit", "rank"),
    int("xmoe", () => 0),
  ],
  validate: (a) => {
    const problems = positive(a, "dim", "experts", "top_k");
    if (problems.length > 0) return problems;
    if (a.int("top_k") > a.int("experts"))
      problems.push([
        "top_k",
        `top_k (${a.int("top_k")}) must be at most the number of experts (${a.int("experts")})`,
      ]);
    problems.push(
      ...oneOf(a, "gating", GATINGS),
      ...oneOf(a, "capacity_rule", CAPACITY_RULES),
      ...oneOf(a, "admit", ADMISSIONS),
      ...capacityCheck(a),
    );
    if (a.int("xmoe") < 0)
      problems.push([
        "xmoe",
        `xmoe must be 0 (a dot-product router) or the positive X-MoE routing dimension, got ${a.int("xmoe")}`,
      ]);
    return problems;
  },
  weights: (a) => {
    const [d, e, r] = [a.int("dim"), a.int("experts"), a.int("xmoe")];
    if (r === 0) return [{ suffix: "weight", shape: [e, d], init: "router", fanIn: d }];
    return [
      { suffix: "reduction.weight", shape: [r, d], init: "router", fanIn: d },
      { suffix: "weight", shape: [e, r], init: "router", fanIn: r },
      {
        suffix: "temperature",
        shape: [1],
        init: a.string("gating") === "sigmoid" ? "temperature_sigmoid" : "temperature_softmax",
        fanIn: 1,
      },
    ];
  },
  inputs: ["tensor"],
  call: (ctx, inputs) => {
    const x = inputTensor(inputs);
    const { args } = ctx;
    const experts = args.int("experts");
    const topK = args.int("top_k");
    const logits =
      args.int("xmoe") === 0
        ? ctx.op("linear", [x, ctx.weight("weight")], {})[0]!
        : ctx.op(
            "cosine_logits",
            [
              ctx.op("linear", [x, ctx.weight("reduction.weight")], {})[0]!,
              ctx.weight("weight"),
              ctx.weight("temperature"),
            ],
            {},
          )[0]!;
    const [routed, gate, probs] = ctx.op("route", [logits], {
      topK,
      gating: args.string("gating") as Gating,
    }) as [number, number, number];
    const limit: CapacityLimit = {
      rule: args.string("capacity_rule") as CapacityRule,
      capacity: args.float("capacity"),
      admit: args.string("admit") as Admission,
    };
    const [expert, keptGate] = isDropless(limit)
      ? [routed, gate]
      : (ctx.op("capacity", [routed, gate], { experts, ...limit }) as [number, number]);
    const routing: Routing = {
      expert,
      gate: keptGate,
      experts,
      topK,
      path: ctx.path,
    };
    ctx.routingSite(routing, routed, expert, probs, ctx.builder.type(x).shape[0]!);
    return { kind: "routing", routing };
  },
};

function oneOf(a: Args, name: string, values: readonly string[]): [string, string][] {
  return values.includes(a.string(name))
    ? []
    : [
        [
          name,
          `${name} must be one of ${values.map((v) => `"${v}"`).join(", ")}, got "${a.string(name)}"`,
        ],
      ];
}

/** The range of `capacity` under each rule (plan/capacity.ts). */
function capacityCheck(a: Args): [string, string][] {
  const c = a.float("capacity");
  switch (a.string("capacity_rule")) {
    case "factor":
      return c >= 0
        ? []
        : [["capacity", `capacity factor must be 0 (dropless) or positive, got ${c}`]];
    case "tokens":
      return Number.isInteger(c) && c >= 1 && c <= MAX_FIXED_CAPACITY
        ? []
        : [
            [
              "capacity",
              `capacity must be a whole number from 1 to ${MAX_FIXED_CAPACITY} with capacity_rule = "tokens" (a fixed number of assignments per expert), got ${c}`,
            ],
          ];
    case "fraction":
      return c > 0 && c <= 1
        ? []
        : [
            [
              "capacity",
              `capacity must be in (0, 1] with capacity_rule = "fraction" (C = ceil(capacity x routed rows)), got ${c}`,
            ],
          ];
    default:
      return [];
  }
}

/** The values of an expert bank's stacked weights, by their per-expert suffixes. */
function expertWeights(ctx: CallContext, ...suffixes: string[]): number[] {
  return suffixes.map((suffix) => ctx.weight(stackedExpertName(suffix)));
}

const Experts: BuiltinLayer = {
  name: "Experts",
  params: [
    int("experts"),
    int("dim"),
    int("hidden"),
    act("act", "gelu"),
    bool("gated", () => false),
    bool("bias", (a) => !a.bool("gated")),
    quantParam,
  ],
  validate: (a) => [
    ...positive(a, "experts", "dim", "hidden"),
    ...gatedBiasCheck(a),
    ...quantCheck(a),
  ],
  weights: (a) => {
    const [e, d, f] = [a.int("experts"), a.int("dim"), a.int("hidden")];
    const stacked = (name: string, shape: number[], init: InitKind, fanIn: number): WeightDecl => ({
      suffix: stackedExpertName(name),
      shape: [e, ...shape],
      init,
      fanIn,
      ...(init === "linear" ? ternary(a) : {}),
    });
    if (a.bool("gated")) {
      return [
        stacked("gate.weight", [f, d], "linear", d),
        stacked("up.weight", [f, d], "linear", d),
        stacked("down.weight", [d, f], "linear", f),
      ];
    }
    const bias = a.bool("bias");
    return [
      stacked("fc1.weight", [f, d], "linear", d),
      ...(bias ? [stacked("fc1.bias", [f], "bias", d)] : []),
      stacked("fc2.weight", [d, f], "linear", f),
      ...(bias ? [stacked("fc2.bias", [d], "bias", f)] : []),
    ];
  },
  inputs: ["tensor", "routing"],
  call: (ctx, inputs) => {
    const x = inputTensor(inputs);
    const routing = inputs[1] as Routing;
    const gated = ctx.args.bool("gated");
    const bias = ctx.args.bool("bias");
    const fn = ctx.args.act("act");
    if (ctx.args.string("quant") === "b1.58") return bitExperts(ctx, x, routing);
    const up = gated
      ? expertWeights(ctx, "gate.weight", "up.weight")
      : expertWeights(ctx, "fc1.weight", ...(bias ? ["fc1.bias"] : []));
    const h = ctx.op("expert_up", [x, routing.expert, ...up], { act: fn, gated, bias })[0]!;
    const down = gated
      ? expertWeights(ctx, "down.weight")
      : expertWeights(ctx, "fc2.weight", ...(bias ? ["fc2.bias"] : []));
    const slots = ctx.op("expert_down", [h, routing.expert, routing.gate, ...down], { bias })[0]!;
    return tensor(ctx.op("combine", [slots], {})[0]!);
  },
};

/**
 * BitNet experts: the input rows quantised once (every expert sees the same row), each
 * assignment's hidden row quantised again before the down projection.
 */
function bitExperts(ctx: CallContext, x: number, routing: Routing): Value {
  const { gated, bias } = { gated: ctx.args.bool("gated"), bias: ctx.args.bool("bias") };
  const [q, scale] = ctx.op("act_quant", [x], {}) as [number, number];
  const up = gated
    ? expertWeights(ctx, "gate.weight", "up.weight")
    : expertWeights(ctx, "fc1.weight", ...(bias ? ["fc1.bias"] : []));
  const h = ctx.op("bit_expert_up", [q, scale, routing.expert, ...up], {
    act: ctx.args.act("act"),
    gated,
    bias,
  })[0]!;
  const [qh, hScale] = ctx.op("act_quant", [h], {}) as [number, number];
  const down = gated
    ? expertWeights(ctx, "down.weight")
    : expertWeights(ctx, "fc2.weight", ...(bias ? ["fc2.bias"] : []));
  const slots = ctx.op("bit_expert_down", [qh, hScale, routing.expert, routing.gate, ...down], {
    bias,
  })[0]!;
  return tensor(ctx.op("combine", [slots], {})[0]!);
}

/** A layer that passes its input through; lets a spec switch a projection off (ablations). */
const Identity: BuiltinLayer = {
  name: "Identity",
  params: [],
  validate: () => [],
  weights: () => [],
  inputs: ["tensor"],
  call: (_ctx, inputs) => tensor(inputTensor(inputs)),
};

export const BUILTIN_LAYERS: ReadonlyMap<string, BuiltinLayer> = new Map(
  [Linear, Embedding, RMSNorm, LayerNorm, Attention, FFN, Router, Experts, Identity].map((l) => [
    l.name,
    l,
  ]),
);

/** Checks the router/bank pairing that no single layer can see. */
export function checkRoutingMatchesBank(routing: Routing, bankExperts: number): string | undefined {
  return routing.experts === bankExperts
    ? undefined
    : `the router '${routing.path}' chooses among ${routing.experts} experts but this bank has ${bankExperts}`;
}
