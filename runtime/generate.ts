// Text generation over a decoding plan (compiled with LowerOptions.decode): one run of the plan
// for the prompt (positions 0..P-1), then one run per new token (T = 1, position P + i), the KV
// caches on the GPU carrying everything before. Sampling happens on the CPU (runtime/text).
// Browser-safe.
import type { Plan } from "../plan/format.js";
import { MoecRunError } from "./errors.js";
import type { Session } from "./session.js";
import type { RoutingStats } from "./statistics.js";
import { createSampler, type SamplingOptions } from "./text/sampling.js";

/** Sampling options as in runtime/text/sampling.ts, except that temperature defaults to 0 (greedy). */
export interface GenerateOptions extends SamplingOptions {
  /** New tokens at most (default 32). */
  readonly maxTokens?: number;
  /** Ids that end generation; the stop token itself is kept in `ids`. */
  readonly stopIds?: readonly number[];
  /** Called with each new token as soon as it is chosen. */
  readonly onToken?: (id: number, index: number) => void;
  /**
   * A session for the single-token steps: the same model compiled for T = 1 (its kernels tiled
   * for one row), sharing this session's weights and KV caches (Session.sibling).
   */
  readonly decoder?: Session;
}

/** The experts one generated token used: per routing site, per head, the chosen expert ids. */
export interface TokenRouting {
  readonly scope: string;
  readonly experts: readonly (readonly number[])[];
}

export interface Generation {
  /** The new tokens (not the prompt). */
  readonly ids: readonly number[];
  /** Why generation ended. */
  readonly stop: "max_tokens" | "stop_token" | "context";
  readonly prefillMs: number;
  readonly decodeMs: number;
  /** Prompt tokens per second of the prefill run, and new tokens per second of the decode runs. */
  readonly prefillTokensPerSecond: number;
  readonly decodeTokensPerSecond: number;
  /**
   * routing[i]: the experts generated token i used when it was fed back to choose token i + 1
   * (each decoding run routes exactly one token); the last token is never fed back.
   */
  readonly routing: readonly (readonly TokenRouting[])[];
  /** The prompt's routing statistics, all prompt tokens together. */
  readonly promptRouting: readonly RoutingStats[];
}

/** How many positions the plan's KV caches hold (the smallest cache), or undefined without one. */
export function cacheContext(plan: Plan): number | undefined {
  const caches = plan.buffers.flatMap((b) => (b.kind === "state" ? [b.shape[0]!] : []));
  return caches.length === 0 ? undefined : Math.min(...caches);
}

/**
 * Generates up to maxTokens new tokens after `prompt`. Each call starts a new sequence: the
 * prompt is written from position 0, so nothing of an earlier call is seen.
 */
export async function generate(
  session: Session,
  prompt: readonly number[],
  options: GenerateOptions = {},
): Promise<Generation> {
  const { plan } = session;
  const context = cacheContext(plan);
  const logitsName = plan.outputs[0]?.name;
  if (context === undefined || !plan.inputs.some((i) => i.name === "positions") || !logitsName)
    throw new MoecRunError(
      `${plan.name} was not compiled for generation (it needs a KV cache and a positions input)`,
    );
  if (prompt.length === 0) throw new MoecRunError("the prompt has no tokens");
  if (prompt.length > context)
    throw new MoecRunError(
      `the prompt has ${prompt.length} tokens; the KV cache holds ${context} positions`,
    );
  const maxTokens = options.maxTokens ?? 32;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 1)
    throw new MoecRunError(`max tokens must be a positive integer, got ${maxTokens}`);
  const sample = createSampler({ ...options, temperature: options.temperature ?? 0 });
  const stops = new Set(options.stopIds ?? []);
  const idsName = plan.inputs.find((i) => i.name !== "positions")!.name;

  const step = async (ids: readonly number[], start: number) => {
    const runner = ids.length === 1 && options.decoder ? options.decoder : session;
    const inputs = new Map([
      [idsName, { shape: [ids.length], data: Int32Array.from(ids) }],
      ["positions", { shape: [ids.length], data: Int32Array.from(ids, (_, i) => start + i) }],
    ]);
    // Only the last position's logits come back: a prompt of T tokens would otherwise read
    // T x vocab floats, of which sampling needs one row.
    const result = await runner.run(inputs, { lastRow: [logitsName] });
    const last = result.outputs.get(logitsName)!.data as Float32Array;
    return { next: sample(last), routing: result.routing };
  };

  let started = performance.now();
  const first = await step(prompt, 0);
  const prefillMs = performance.now() - started;
  const ids = [first.next];
  options.onToken?.(first.next, 0);
  const routing: TokenRouting[][] = [];
  let stop: Generation["stop"] = stops.has(first.next) ? "stop_token" : "max_tokens";
  started = performance.now();
  while (stop === "max_tokens" && ids.length < maxTokens) {
    const position = prompt.length + ids.length - 1;
    if (position >= context) {
      stop = "context";
      break;
    }
    const { next, routing: stats } = await step([ids[ids.length - 1]!], position);
    routing.push(stats.map(chosenExperts));
    ids.push(next);
    options.onToken?.(next, ids.length - 1);
    if (stops.has(next)) stop = "stop_token";
  }
  const decodeMs = performance.now() - started;
  const decoded = ids.length - 1;
  return {
    ids,
    stop,
    prefillMs,
    decodeMs,
    prefillTokensPerSecond: (prompt.length / prefillMs) * 1000,
    decodeTokensPerSecond: decoded > 0 ? (decoded / decodeMs) * 1000 : 0,
    routing,
    promptRouting: first.routing,
  };
}

/** With one token routed, the experts with a kept assignment are exactly the ones it chose. */
function chosenExperts(stats: RoutingStats): TokenRouting {
  return {
    scope: stats.scope,
    experts: stats.counts.map((row) => row.flatMap((n, e) => (n > 0 ? [e] : []))),
  };
}
