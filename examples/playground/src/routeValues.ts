// Where each routing site's per-token choices live in an optimised graph, so the plan can keep
// them and the page (and the browser test, in Node) can read them back after a run.
import type { Graph } from "../../../compiler/ir/graph.js";
import type { RouteValues } from "../../../runtime/routes.js";

/**
 * Each routing site's router outputs: the statistic of first choices (route_stats or the fused
 * route_balance) reads the expert ids as its first input; the node that makes them (route or
 * moe_route) gives the gates as its second output.
 */
export function routeValues(graph: Graph): RouteValues[] {
  return graph.routing.flatMap((site) => {
    const stats = graph.nodes[graph.values[site.top1]!.node]!;
    const expert = stats.inputs[0];
    if (expert === undefined) return [];
    const router = graph.nodes[graph.values[expert]!.node]!;
    const gate = router.outputs[1];
    if (router.outputs[0] !== expert || gate === undefined) return [];
    return [
      {
        scope: site.scope,
        experts: site.experts,
        heads: site.heads,
        topK: site.topK,
        expert,
        gate,
      },
    ];
  });
}
