// Built-in MoE layers: the Router (gating, capacity rules, X-MoE routing) and the Experts bank,
// and the router/bank pairing check.
import {
  type Admission,
  ADMISSIONS,
  CAPACITY_RULES,
  type CapacityLimit,
  type CapacityRule,
  isDropless,
} from "../../plan/capacity.js";
import { SELECTION_BIAS, stackedExpertName } from "../../plan/weightNames.js";
import { type Gating, GATINGS, type InitKind } from "../ir/ops.js";
import type { Routing, Value } from "../values.js";
import {
  projNames,
  projNamesCheck,
  projNamesParam,
  quantCheck,
  quantParam,
  ternary,
} from "./dense.js";
import {
  act,
  type Args,
  bool,
  type BuiltinLayer,
  type CallContext,
  float,
  gatedBiasCheck,
  inputTensor,
  int,
  oneOf,
  positive,
  string,
  tensor,
  type WeightDecl,
} from "./layer.js";

/** The largest fixed capacity: C must fit the kernels' u32 counters. */
export const MAX_FIXED_CAPACITY = 2 ** 31 - 1;

/**
 * The router: logits = x·Wᵀ, or with `xmoe = r > 0` X-MoE's (2404.15045 Table 9): the row is
 * projected to r dimensions and scored by cosine similarity with L2-normalised expert embeddings
 * over a learnable temperature. An option rather than a layer of its own because everything
 * after the logits (gating, top-k, capacity, statistics, the pairing with a bank) is shared, and
 * a library block switches routing with one argument.
 */
export const Router: BuiltinLayer = {
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
    // DeepSeek-V3's sigmoid routing (route_grouped): expert groups, a selection-only bias,
    // renormalised gates and the routed scaling factor.
    int("groups", () => 1),
    int("topk_groups", (a) => a.int("groups")),
    bool("selection_bias", () => false),
    bool("renorm", () => false),
    float("scale", 1),
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
    if (usesGroupedRoute(a) && a.string("gating") !== "sigmoid")
      problems.push([
        "gating",
        'groups, selection_bias, renorm and scale need gating = "sigmoid" (softmax gating renormalises with gating = "renorm")',
      ]);
    if (usesGroupedRoute(a) && a.int("xmoe") !== 0)
      problems.push(["xmoe", "X-MoE routing does not combine with groups or a selection bias"]);
    const [experts, groups] = [a.int("experts"), a.int("groups")];
    if (groups < 1 || experts % groups !== 0 || (groups > 1 && experts / groups < 2))
      problems.push([
        "groups",
        `groups must divide the ${experts} experts into groups of at least 2, got ${groups}`,
      ]);
    else if (
      groups > 1 &&
      (a.int("topk_groups") < 1 ||
        a.int("topk_groups") > groups ||
        a.int("top_k") > a.int("topk_groups") * (experts / groups))
    )
      problems.push([
        "topk_groups",
        `topk_groups must be from 1 to groups (${groups}) and keep at least top_k experts, got ${a.int("topk_groups")}`,
      ]);
    if (!(a.float("scale") > 0))
      problems.push(["scale", `scale must be positive, got ${a.float("scale")}`]);
    if (a.int("xmoe") < 0)
      problems.push([
        "xmoe",
        `xmoe must be 0 (a dot-product router) or the positive X-MoE routing dimension, got ${a.int("xmoe")}`,
      ]);
    return problems;
  },
  weights: (a) => {
    const [d, e, r] = [a.int("dim"), a.int("experts"), a.int("xmoe")];
    const bias: WeightDecl[] = a.bool("selection_bias")
      ? [{ suffix: SELECTION_BIAS, shape: [e], init: "bias", fanIn: d }]
      : [];
    if (r === 0) return [{ suffix: "weight", shape: [e, d], init: "router", fanIn: d }, ...bias];
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
    const [routed, gate, probs] = (
      usesGroupedRoute(args)
        ? ctx.op(
            "route_grouped",
            [logits, ...(args.bool("selection_bias") ? [ctx.weight(SELECTION_BIAS)] : [])],
            {
              topK,
              groups: args.int("groups"),
              topkGroups: args.int("topk_groups"),
              renorm: args.bool("renorm"),
              scale: args.float("scale"),
            },
          )
        : ctx.op("route", [logits], { topK, gating: args.string("gating") as Gating })
    ) as [number, number, number];
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


/** Whether a router needs DeepSeek-V3's routing op rather than the plain top-k of `route`. */
function usesGroupedRoute(a: Args): boolean {
  return (
    a.int("groups") > 1 || a.bool("selection_bias") || a.bool("renorm") || a.float("scale") !== 1
  );
}

/** The range of `capacity` under each rule (plan/capacity.ts). */
export function capacityCheck(a: Args): [string, string][] {
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
export function expertWeights(ctx: CallContext, ...suffixes: string[]): number[] {
  return suffixes.map((suffix) => ctx.weight(stackedExpertName(suffix)));
}

export const Experts: BuiltinLayer = {
  name: "Experts",
  params: [
    int("experts"),
    int("dim"),
    int("hidden"),
    act("act", "gelu"),
    bool("gated", () => false),
    bool("bias", (a) => !a.bool("gated")),
    quantParam,
    projNamesParam,
  ],
  validate: (a) => [
    ...positive(a, "experts", "dim", "hidden"),
    ...gatedBiasCheck(a),
    ...quantCheck(a),
    ...projNamesCheck(a),
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
    const [up, down] = bankWeightNames(a);
    if (a.bool("gated")) {
      return [
        stacked(up[0]!, [f, d], "linear", d),
        stacked(up[1]!, [f, d], "linear", d),
        stacked(down[0]!, [d, f], "linear", f),
      ];
    }
    const bias = a.bool("bias");
    return [
      stacked(up[0]!, [f, d], "linear", d),
      ...(bias ? [stacked(up[1]!, [f], "bias", d)] : []),
      stacked(down[0]!, [d, f], "linear", f),
      ...(bias ? [stacked(down[1]!, [d], "bias", f)] : []),
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
    const [up, down] = bankWeightNames(ctx.args).map((names) => expertWeights(ctx, ...names));
    const h = ctx.op("expert_up", [x, routing.expert, ...up!], { act: fn, gated, bias })[0]!;
    const slots = ctx.op("expert_down", [h, routing.expert, routing.gate, ...down!], { bias })[0]!;
    return tensor(ctx.op("combine", [slots], {})[0]!);
  },
};

/**
 * The per-expert suffixes of a bank's weights, in the order expert_up and expert_down take them:
 * gated [gate, up] and [down]; plain [fc1 weight, fc1 bias?] and [fc2 weight, fc2 bias?].
 */
function bankWeightNames(a: Args): [string[], string[]] {
  const names = projNames(a);
  if (a.bool("gated"))
    return [[`${names[0]}.weight`, `${names[1]}.weight`], [`${names[2]}.weight`]];
  const withBias = (n: string) => [`${n}.weight`, ...(a.bool("bias") ? [`${n}.bias`] : [])];
  return [withBias(names[0]!), withBias(names[1]!)];
}

/**
 * BitNet experts: the input rows quantised once (every expert sees the same row), each
 * assignment's hidden row quantised again before the down projection.
 */
export function bitExperts(ctx: CallContext, x: number, routing: Routing): Value {
  const { gated, bias } = { gated: ctx.args.bool("gated"), bias: ctx.args.bool("bias") };
  const [q, scale] = ctx.op("act_quant", [x], {}) as [number, number];
  const [up, down] = bankWeightNames(ctx.args).map((names) => expertWeights(ctx, ...names));
  const h = ctx.op("bit_expert_up", [q, scale, routing.expert, ...up!], {
    act: ctx.args.act("act"),
    gated,
    bias,
  })[0]!;
  const [qh, hScale] = ctx.op("act_quant", [h], {}) as [number, number];
  const slots = ctx.op("bit_expert_down", [qh, hScale, routing.expert, routing.gate, ...down!], {
    bias,
  })[0]!;
  return tensor(ctx.op("combine", [slots], {})[0]!);
}

/** Checks the router/bank pairing that no single layer can see. */
export function checkRoutingMatchesBank(routing: Routing, bankExperts: number): string | undefined {
  return routing.experts === bankExperts
    ? undefined
    : `the router '${routing.path}' chooses among ${routing.experts} experts but this bank has ${bankExperts}`;
}
