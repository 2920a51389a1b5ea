// Parameters and compute per token, per block and for a whole model, and the parity
// comparison of two models (design.md section 4: MH-MoE at parity).
import { type Graph, type Node, weightNodes } from "./ir/graph.js";
import { OPS } from "./ir/ops.js";
import { type DimBindings, resolveShape, symbolsOf } from "./ir/types.js";
import { ternaryBufferBytes } from "../plan/bitnet.js";
import { expertWeightNames, isStackedExpertName } from "../plan/weightNames.js";

export interface WeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  /** t2: ternary (BitNet): f32 master values, or packed U32 words plus `<name>_scale`. */
  readonly dtype: "f32" | "t2";
}

/** Every weight by its dotted name, stacked expert tensors expanded per expert (the contract). */
export function weightList(graph: Graph): WeightEntry[] {
  const out: WeightEntry[] = [];
  for (const node of weightNodes(graph)) {
    const type = graph.values[node.outputs[0]!]!.type;
    const shape = type.shape as number[];
    const dtype = type.dtype === "t2" ? "t2" : "f32";
    if (isStackedExpertName(node.attrs.name)) {
      for (const name of expertWeightNames(node.attrs.name, shape[0]!))
        out.push({ name, shape: shape.slice(1), dtype });
    } else out.push({ name: node.attrs.name, shape, dtype });
  }
  return out;
}

export interface BlockCost {
  readonly name: string;
  readonly params: number;
  /** Parameters one token touches (expert banks count the experts it can reach). */
  readonly activeParams: number;
  readonly macsPerToken: number;
  readonly flopsPerToken: number;
  /** Multiply-adds of router logits, kept apart: the parity papers leave them out. */
  readonly routerMacsPerToken: number;
}

export interface ModelCost extends BlockCost {
  /** Tokens T at which costs were measured (attention cost per token grows with T). */
  readonly tokens: number;
  readonly routerParams: number;
  readonly expertParams: number;
  readonly blocks: readonly BlockCost[];
  /** Present when some weights are ternary (BitNet b1.58): what the GPU holds for them. */
  readonly ternary?: TernaryMemory;
}

export interface TernaryMemory {
  /** Parameters stored as ternary values. */
  readonly params: number;
  /** Their bytes on the GPU: 2 bits each plus one f32 scale per matrix (plan/bitnet.ts). */
  readonly bytes: number;
  /** Bytes of every weight buffer of the model, ternary ones packed. */
  readonly weightBytes: number;
  /** The same model with every weight in f32. */
  readonly f32WeightBytes: number;
}

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Groups `blocks.3.moe.gate` under `blocks.3` and `head.weight` under `head`; a wrapper that
 * holds the whole model (`lm.blocks.3...`) is looked through.
 */
export function blockOf(scope: string, wrapper = ""): string {
  const rest = wrapper && scope.startsWith(`${wrapper}.`) ? scope.slice(wrapper.length + 1) : scope;
  const parts = rest.split(".");
  const prefix = wrapper && rest !== scope ? `${wrapper}.` : "";
  if (parts.length >= 2 && /^\d+$/.test(parts[1]!)) return `${prefix}${parts[0]}.${parts[1]}`;
  return parts[0] ? `${prefix}${parts[0]}` : "(model)";
}

/** The first path segment shared by every scope when it holds more than one block. */
function wrapperOf(graph: Graph): string {
  const scopes = graph.nodes.map((n) => n.scope).filter(Boolean);
  const first = scopes[0]?.split(".")[0] ?? "";
  const shared = scopes.every((s) => s.split(".")[0] === first);
  const inner = new Set(scopes.map((s) => s.split(".")[1]));
  return shared && inner.size > 1 ? first : "";
}

export function modelCost(graph: Graph, tokens = 1): ModelCost {
  const bindings: Record<string, number> = {};
  for (const v of graph.values) for (const s of symbolsOf(v.type.shape)) bindings[s] = tokens;
  const consumers = consumerMap(graph);
  const blocks = new Map<
    string,
    { params: number; active: number; macs: number; flops: number; router: number }
  >();
  const wrapper = wrapperOf(graph);
  const block = (scope: string) => {
    const key = blockOf(scope, wrapper);
    if (!blocks.has(key)) blocks.set(key, { params: 0, active: 0, macs: 0, flops: 0, router: 0 });
    return blocks.get(key)!;
  };
  let routerParams = 0;
  let expertParams = 0;
  const ternary = { params: 0, bytes: 0, weightBytes: 0, f32WeightBytes: 0 };
  for (const node of graph.nodes) {
    if (node.op === "weight") {
      const weight = node as Node<"weight">;
      const shape = graph.values[node.outputs[0]!]!.type.shape as number[];
      const size = numel(shape);
      const packed = graph.values[node.outputs[0]!]!.type.dtype === "t2";
      ternary.f32WeightBytes += 4 * size;
      ternary.weightBytes += packed ? ternaryBufferBytes(shape) : 4 * size;
      if (packed) {
        ternary.params += size;
        ternary.bytes += ternaryBufferBytes(shape);
      }
      const b = block(node.scope);
      b.params += size;
      b.active += size * activeFraction(graph, weight, consumers);
      if (ROUTER_INITS.has(weight.attrs.init)) routerParams += size;
      if (isStackedExpertName(weight.attrs.name)) expertParams += size;
      continue;
    }
    if (node.op === "input") continue;
    const cost = nodeCost(graph, node, bindings);
    const b = block(node.scope);
    b.macs += cost.macs / tokens;
    b.flops += cost.flops / tokens;
    if (isRouterLogits(graph, node, consumers)) b.router += cost.macs / tokens;
  }
  const list: BlockCost[] = [...blocks]
    .filter(([, b]) => b.params > 0 || b.flops > 0)
    .map(([name, b]) => ({
      name,
      params: b.params,
      activeParams: b.active,
      macsPerToken: b.macs,
      flopsPerToken: b.flops,
      routerMacsPerToken: b.router,
    }));
  const sum = (f: (b: BlockCost) => number) => list.reduce((s, b) => s + f(b), 0);
  return {
    name: graph.name,
    tokens,
    params: sum((b) => b.params),
    activeParams: sum((b) => b.activeParams),
    macsPerToken: sum((b) => b.macsPerToken),
    flopsPerToken: sum((b) => b.flopsPerToken),
    routerMacsPerToken: sum((b) => b.routerMacsPerToken),
    routerParams,
    expertParams,
    blocks: list,
    ...(ternary.params > 0 ? { ternary } : {}),
  };
}

export function nodeCost(graph: Graph, node: Node, bindings: DimBindings) {
  const shapes = (vs: readonly number[]) =>
    vs.map((v) => resolveShape(graph.values[v]!.type.shape, bindings));
  const cost = OPS[node.op].cost as (
    i: number[][],
    o: number[][],
    a: unknown,
  ) => { macs: number; flops: number; bytes: number };
  return cost(shapes(node.inputs), shapes(node.outputs), node.attrs);
}

function consumerMap(graph: Graph): Map<number, Node[]> {
  const map = new Map<number, Node[]>();
  for (const node of graph.nodes)
    for (const v of node.inputs) map.set(v, [...(map.get(v) ?? []), node]);
  return map;
}

/** Weights of routers: the logits weight, and X-MoE's projection, embeddings and temperature. */
const ROUTER_INITS = new Set(["router", "temperature_softmax", "temperature_sigmoid"]);

/** Router logits: a linear into route, X-MoE's cosine logits, and the projection feeding them. */
function isRouterLogits(graph: Graph, node: Node, consumers: Map<number, Node[]>): boolean {
  const users = consumers.get(node.outputs[0]!) ?? [];
  if (node.op === "cosine_logits") return true;
  const routes = new Set(["route", "route_grouped", "cosine_logits"]);
  return node.op === "linear" && users.some((c) => routes.has(c.op));
}

/** Share of a stacked expert tensor one token can touch: min(E, k·h) of E experts. */
function activeFraction(
  graph: Graph,
  weight: Node<"weight">,
  consumers: Map<number, Node[]>,
): number {
  if (!isStackedExpertName(weight.attrs.name)) return 1;
  const user = (consumers.get(weight.outputs[0]!) ?? [])[0];
  if (!user) return 1;
  const experts = graph.values[weight.outputs[0]!]!.type.shape[0] as number;
  const expertIds = user.op === "bit_expert_up" || user.op === "bit_expert_down" ? 2 : 1;
  const choices = graph.values[user.inputs[expertIds]!]!.type.shape; // [rows, k]
  const rows = choices[0]!;
  const perToken = (typeof rows === "number" ? 1 : rows.coef) * (choices[1] as number);
  return Math.min(experts, perToken) / experts;
}

export interface ParityReport {
  readonly atParity: boolean;
  readonly lines: readonly string[];
}

/**
 * Two models are at parity when they cost the same multiply-adds per token (router logits
 * excluded, as in the papers) and their parameters (routers excluded) differ by at most
 * `tolerance`.
 */
export function compareCosts(a: ModelCost, b: ModelCost, tolerance = 0.05): ParityReport {
  const macsA = a.macsPerToken - a.routerMacsPerToken;
  const macsB = b.macsPerToken - b.routerMacsPerToken;
  const paramsA = a.params - a.routerParams;
  const paramsB = b.params - b.routerParams;
  const macsDiff = macsB / macsA - 1;
  const paramsDiff = paramsB / paramsA - 1;
  const sameMacs = macsA === macsB;
  const paramsClose = Math.abs(paramsDiff) <= tolerance;
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(2)}%`;
  const row = (label: string, x: number, y: number, diff: string) =>
    `${label.padEnd(34)} ${fmt(x).padStart(16)} ${fmt(y).padStart(16)} ${diff.padStart(10)}`;
  const lines = [
    `${"".padEnd(34)} ${a.name.padStart(16)} ${b.name.padStart(16)} ${"B vs A".padStart(10)}`,
    row("multiply-adds per token (no router)", macsA, macsB, pct(macsDiff)),
    row(
      "router multiply-adds per token",
      a.routerMacsPerToken,
      b.routerMacsPerToken,
      pct(b.routerMacsPerToken / a.routerMacsPerToken - 1),
    ),
    row(
      "FLOPs per token (all ops)",
      a.flopsPerToken,
      b.flopsPerToken,
      pct(b.flopsPerToken / a.flopsPerToken - 1),
    ),
    row("parameters (no router)", paramsA, paramsB, pct(paramsDiff)),
    row("parameters (total)", a.params, b.params, pct(b.params / a.params - 1)),
    row(
      "active parameters per token",
      a.activeParams,
      b.activeParams,
      pct(b.activeParams / a.activeParams - 1),
    ),
    "",
    sameMacs && paramsClose
      ? `at parity: identical multiply-adds per token; parameters within ${pct(paramsDiff)} (tolerance ±${(100 * tolerance).toFixed(1)}%)`
      : `NOT at parity: ${[
          sameMacs ? undefined : `multiply-adds per token differ by ${pct(macsDiff)}`,
          paramsClose
            ? undefined
            : `parameters differ by ${pct(paramsDiff)} (tolerance ±${(100 * tolerance).toFixed(1)}%)`,
        ]
          .filter(Boolean)
          .join("; ")}`,
  ];
  return { atParity: sameMacs && paramsClose, lines };
}

/** 4718592 -> "4,718,592"; fractions keep two decimals. */
export function fmt(x: number): string {
  return Number.isInteger(x)
    ? x.toLocaleString("en-US")
    : x.toLocaleString("en-US", { maximumFractionDigits: 2 });
}
