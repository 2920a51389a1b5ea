// Per-token routing of a run: the experts each (sub-)token was sent to and their gate weights, read
// back from the router's expert-id and gate values (plans built to keep them; RunOptions.values).
// The routing statistics count these same choices; countRoutes recounts them for a check.
import type { RunResult } from "./session.js";

/** Where one routing site's choices live in the plan: IR value ids the plan keeps. */
export interface RouteValues {
  readonly scope: string;
  readonly experts: number;
  readonly heads: number;
  readonly topK: number;
  /** Expert ids [T·heads, topK] (i32) and gate weights [T·heads, topK] (f32). */
  readonly expert: number;
  readonly gate: number;
}

export interface TokenRoutes {
  readonly scope: string;
  readonly experts: number;
  readonly heads: number;
  readonly topK: number;
  readonly tokens: number;
  /** Row t·heads + j is sub-token j of token t; entries [row·topK + choice]. */
  readonly expert: Int32Array;
  readonly gate: Float32Array;
}

/** The values to ask Session.run for (RunOptions.values). */
export function routeValueIds(sites: readonly RouteValues[]): number[] {
  return sites.flatMap((s) => [s.expert, s.gate]);
}

/** Decodes the routes of a run made with `values: routeValueIds(sites)`. */
export function tokenRoutes(result: RunResult, sites: readonly RouteValues[]): TokenRoutes[] {
  return sites.map((site) => {
    const expert = result.values.get(site.expert);
    const gate = result.values.get(site.gate);
    if (!expert || !gate)
      throw new Error(`the run did not read back the routes of ${site.scope} (values missing)`);
    if (!(expert.data instanceof Int32Array) || !(gate.data instanceof Float32Array))
      throw new Error(`the routes of ${site.scope} have unexpected types`);
    const rows = expert.data.length / site.topK;
    return {
      scope: site.scope,
      experts: site.experts,
      heads: site.heads,
      topK: site.topK,
      tokens: rows / site.heads,
      expert: expert.data,
      gate: gate.data,
    };
  });
}

/** Assignments per head and expert: [heads][experts] (ids outside 0..E-1 are not counted). */
export function countRoutes(routes: TokenRoutes): number[][] {
  const counts = Array.from({ length: routes.heads }, () =>
    new Array<number>(routes.experts).fill(0),
  );
  routes.expert.forEach((e, i) => {
    const head = Math.floor(i / routes.topK) % routes.heads;
    if (e >= 0 && e < routes.experts) counts[head]![e]!++;
  });
  return counts;
}
