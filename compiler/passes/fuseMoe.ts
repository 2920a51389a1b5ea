// MoE fusion (design.md section 6): router logits + softmax + top-k become one moe_route;
// capacity and statistics become one counting-sort moe_permute; the expert FFN becomes two
// grouped GEMMs that gather rows by index; the combine moves into its consumer (the merge
// layer's linear, or the residual add), through the join view, so no combined copy is stored.
// In a training graph the expert bank's backward ops run over the same segments (fuseMoeGrad.ts).
import { DROPLESS } from "../../plan/capacity.js";
import type { Graph, Node } from "../ir/graph.js";
import { EXPERT_GRAD_OPS, ExpertGradFusion, type Permutation } from "./fuseMoeGrad.js";
import { Rewriter, consumers, producer, soleConsumer } from "./rewrite.js";

interface MoeSite {
  /**
   * The router logits fused into moe_route: a linear, or X-MoE's cosine_logits (its projection
   * stays a linear). None for DeepSeek-V3's grouped router, which stays its own kernel; its
   * experts still run as grouped GEMMs over the permutation.
   */
  readonly logits?: Node<"linear"> | Node<"cosine_logits">;
  readonly route: Node<"route"> | Node<"route_grouped">;
  readonly capacity?: Node<"capacity">;
  readonly stats: Node<"route_stats">;
}

export function fuseMoe(graph: Graph): Graph {
  const uses = consumers(graph);
  const sites = new Map<number, MoeSite>(); // by node id of any member
  for (const node of graph.nodes) {
    if (node.op !== "route" && node.op !== "route_grouped") continue;
    const logits = producer(graph, node.inputs[0]!);
    const plain = logits.op === "linear" && logits.inputs.length === 2;
    const fusedRouter =
      node.op === "route" &&
      (plain || logits.op === "cosine_logits") &&
      soleConsumer(graph, uses, logits.outputs[0]!) !== undefined;
    if (node.op === "route" && !fusedRouter) continue;
    const expertUsers = uses.get(node.outputs[0]!) ?? [];
    const capacity = expertUsers.find((n) => n.op === "capacity") as Node<"capacity"> | undefined;
    const stats = expertUsers.find((n) => n.op === "route_stats") as
      Node<"route_stats"> | undefined;
    if (!stats) continue;
    const site: MoeSite = {
      ...(fusedRouter && { logits: logits as Node<"linear"> | Node<"cosine_logits"> }),
      route: node as Node<"route"> | Node<"route_grouped">,
      capacity,
      stats,
    };
    for (const member of [fusedRouter ? logits : undefined, node, capacity, stats])
      if (member) sites.set(member.id, site);
  }
  if (sites.size === 0) return graph;

  const rw = new Rewriter(graph);
  /** New values of each routing site: kept expert ids, segment offsets, order. */
  const permuted = new Map<MoeSite, Permutation>();
  const backward = new ExpertGradFusion(rw);
  const fusedAway = new Set<number>();
  for (const node of graph.nodes) {
    if (fusedAway.has(node.id)) continue;
    const site = sites.get(node.id);
    if (site) {
      if (node === site.route) {
        if (site.logits && site.route.op === "route") {
          const cosine = site.logits.op === "cosine_logits";
          const inputs = site.logits.inputs.map((v) => rw.value(v));
          const attrs = { ...site.route.attrs, cosine };
          const outs = rw.emit("moe_route", inputs, attrs, node.scope, node.span);
          node.outputs.forEach((v, i) => rw.alias(v, outs[i]!));
        } else rw.copy(node);
      } else if (node === site.stats) {
        const experts = site.stats.attrs.experts;
        const { rule, capacity, admit } = site.capacity?.attrs ?? DROPLESS;
        const [routed, gate, probs] = site.route.outputs.map((v) => rw.value(v));
        const [offsets, order, kept, counts, dropped] = rw.emit(
          "moe_permute",
          [routed!],
          { experts, rule, capacity, admit, heads: site.stats.attrs.heads },
          node.scope,
          node.span,
        );
        const [top1, probSum] = rw.emit(
          "route_balance",
          [routed!, probs!],
          {},
          node.scope,
          node.span,
        );
        [counts, top1, probSum, dropped].forEach((v, i) => rw.alias(node.outputs[i]!, v!));
        if (site.capacity) {
          rw.alias(site.capacity.outputs[0]!, kept!);
          rw.alias(site.capacity.outputs[1]!, gate!); // dropped assignments are skipped by `kept`
        }
        permuted.set(site, { kept: kept!, offsets: offsets!, order: order! });
      }
      continue; // a fused logits linear and the capacity node live on inside the fused ops
    }
    if (node.op === "expert_up" || node.op === "expert_down") {
      const site = siteOfExpert(graph, node, sites);
      const p = site && permuted.get(site);
      if (p) {
        const [first, , ...rest] = node.inputs.map((v) => rw.value(v));
        const outs =
          node.op === "expert_up"
            ? rw.emit(
                "moe_grouped_up",
                [first!, p.kept, p.order, p.offsets, ...rest],
                node.attrs as Node<"expert_up">["attrs"],
                node.scope,
                node.span,
              )
            : rw.emit(
                "moe_grouped_down",
                [first!, p.kept, p.order, p.offsets, ...rest],
                node.attrs as Node<"expert_down">["attrs"],
                node.scope,
                node.span,
              );
        rw.alias(node.outputs[0]!, outs[0]!);
        continue;
      }
    }
    if (EXPERT_GRAD_OPS.has(node.op)) {
      const site = siteOfExpert(graph, node, sites);
      const p = site && permuted.get(site);
      if (p) {
        backward.rewrite(node, p);
        continue;
      }
    }
    if (node.op === "combine") {
      const fused = fuseCombine(graph, uses, node, rw);
      if (fused) {
        fused.forEach((id) => fusedAway.add(id));
        continue;
      }
    }
    rw.copy(node);
  }
  return rw.finish();
}

function siteOfExpert(graph: Graph, node: Node, sites: Map<number, MoeSite>): MoeSite | undefined {
  const expertIds = producer(graph, node.inputs[1]!);
  return sites.get(expertIds.id);
}

/**
 * combine -> [join] -> linear   becomes combine_linear at the linear;
 * combine -> [join] -> add      becomes combine_add at the add.
 * Emits the fused node right away (its other inputs are defined earlier in SSA order) and
 * returns the ids of the consumer nodes it replaced.
 */
function fuseCombine(
  graph: Graph,
  uses: Map<number, Node[]>,
  combine: Node,
  rw: Rewriter,
): number[] | undefined {
  let value = combine.outputs[0]!;
  let heads = 1;
  let next = soleConsumer(graph, uses, value);
  const replaced: number[] = [];
  if (next?.op === "join") {
    heads = (next.attrs as { heads: number }).heads;
    replaced.push(next.id);
    value = next.outputs[0]!;
    next = soleConsumer(graph, uses, value);
  }
  if (!next) return undefined;
  const slots = rw.value(combine.inputs[0]!);
  if (next.op === "linear" && next.inputs[0] === value) {
    const [, w, b] = next.inputs;
    const inputs = [slots, rw.value(w!), ...(b !== undefined ? [rw.value(b)] : [])];
    const [y] = rw.emit(
      "combine_linear",
      inputs,
      { heads, bias: b !== undefined },
      next.scope,
      next.span,
    );
    rw.alias(next.outputs[0]!, y!);
    return [...replaced, next.id];
  }
  if (next.op === "add") {
    const other = next.inputs[0] === value ? next.inputs[1]! : next.inputs[0]!;
    if (other === value) return undefined;
    // The residual must already exist where the combine stood, since we emit there.
    if (graph.values[other]!.node > combine.id) return undefined;
    const [y] = rw.emit("combine_add", [slots, rw.value(other)], { heads }, next.scope, next.span);
    rw.alias(next.outputs[0]!, y!);
    return [...replaced, next.id];
  }
  return undefined;
}
