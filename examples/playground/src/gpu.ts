// Running a plan on the page's GPU: one device per page, seeded or safetensors weights, timed
// runs. Shared by both pages; imports the runtime and only the plan's types from the compiler.
import type { Plan } from "../../../plan/format.js";
import { type MoecDevice, requestMoecDevice } from "../../../runtime/device.js";
import { parseSafetensors, toFloat32 } from "../../../runtime/safetensors.js";
import {
  type RunResult,
  Session,
  type TensorData,
  type WeightData,
} from "../../../runtime/session.js";
import {
  type RouteValues,
  type TokenRoutes,
  routeValueIds,
  tokenRoutes,
} from "../../../runtime/routes.js";
import { initWeights } from "../../../runtime/weights.js";
import { makeInputs } from "./inputs.js";

export const NO_WEBGPU =
  "This browser has no WebGPU (navigator.gpu is missing), so models cannot run here. " +
  "Compiling and diagnostics still work. Use a current Chrome or Edge, or enable WebGPU " +
  "in Firefox or Safari; pages must be served over https or from localhost.";

export function hasWebGpu(): boolean {
  return typeof navigator !== "undefined" && "gpu" in navigator && Boolean(navigator.gpu);
}

let devicePromise: Promise<MoecDevice> | undefined;

/** The page's device, requested once; a lost device is replaced on the next call. */
export function getDevice(): Promise<MoecDevice> {
  if (!hasWebGpu()) return Promise.reject(new Error(NO_WEBGPU));
  devicePromise ??= requestMoecDevice(navigator.gpu).catch((err: unknown) => {
    devicePromise = undefined;
    throw err;
  });
  return devicePromise.then((d) => {
    if (d.lost) {
      devicePromise = undefined;
      return getDevice();
    }
    return d;
  });
}

export type WeightSource =
  | { readonly kind: "seeded"; readonly seed: number }
  | { readonly kind: "safetensors"; readonly file: File | Uint8Array; readonly name?: string };

export async function loadWeights(
  plan: Plan,
  source: WeightSource,
): Promise<Map<string, WeightData>> {
  if (source.kind === "seeded") return initWeights(plan, source.seed);
  const bytes =
    source.file instanceof Uint8Array
      ? source.file
      : new Uint8Array(await source.file.arrayBuffer());
  const name = source.name ?? (source.file instanceof File ? source.file.name : "weights");
  const parsed = parseSafetensors(bytes, name);
  const weights = new Map<string, WeightData>();
  for (const [tensorName, t] of parsed.tensors) {
    weights.set(tensorName, { shape: t.shape, data: toFloat32(t, tensorName) });
  }
  return weights;
}

export interface RunRequest {
  readonly plan: Plan;
  readonly weights: WeightSource;
  readonly tokens: number;
  readonly inputSeed: number;
  /** Timed runs after the first (default 3). */
  readonly warmRuns?: number;
  /** Routing sites whose per-token choices to read back (the plan must keep them). */
  readonly routes?: readonly RouteValues[];
}

export interface Timings {
  /** Weights made or decoded on the CPU. */
  weightsMs: number;
  /** Session.create: weight upload and WGSL pipeline compilation. */
  sessionMs: number;
  firstRunMs: number;
  /** Median of the warm runs; undefined without warm runs. */
  warmRunMs?: number;
  warmRuns: number;
}

export interface PageRun {
  readonly adapter: string;
  readonly inputs: ReadonlyMap<string, TensorData>;
  readonly result: RunResult;
  /** Per-token expert choices and gates, when the request named the routes. */
  readonly routes?: readonly TokenRoutes[];
  readonly timings: Timings;
  readonly warnings: readonly string[];
}

export async function runPlan(request: RunRequest): Promise<PageRun> {
  const moec = await getDevice();
  const { plan } = request;
  const warnings: string[] = [];
  let t = performance.now();
  const weights = await loadWeights(plan, request.weights);
  const weightsMs = performance.now() - t;

  t = performance.now();
  const session = await Session.create(moec.device, plan, weights, {
    warn: (m) => warnings.push(m),
  });
  const sessionMs = performance.now() - t;
  try {
    const inputs = makeInputs(plan, request.tokens, request.inputSeed);
    t = performance.now();
    const sites = request.routes ?? [];
    const result = await session.run(inputs, { values: routeValueIds(sites) });
    const firstRunMs = performance.now() - t;
    const warm: number[] = [];
    for (let i = 0; i < (request.warmRuns ?? 3); i++) {
      t = performance.now();
      await session.run(inputs);
      warm.push(performance.now() - t);
    }
    warm.sort((a, b) => a - b);
    return {
      adapter: moec.describeAdapter(),
      inputs,
      result,
      ...(sites.length > 0 && { routes: tokenRoutes(result, sites) }),
      timings: {
        weightsMs,
        sessionMs,
        firstRunMs,
        warmRunMs: warm.length > 0 ? warm[Math.floor(warm.length / 2)] : undefined,
        warmRuns: warm.length,
      },
      warnings,
    };
  } finally {
    session.destroy();
  }
}

/** Plain JSON for the test hook (typed arrays become number arrays). */
export function plainRun(run: PageRun) {
  const tensor = (t: TensorData) => ({ shape: [...t.shape], data: Array.from(t.data) });
  return {
    adapter: run.adapter,
    outputs: Object.fromEntries([...run.result.outputs].map(([k, v]) => [k, tensor(v)])),
    routing: run.result.routing,
    routes: run.routes?.map((r) => ({
      ...r,
      expert: Array.from(r.expert),
      gate: Array.from(r.gate),
    })),
    timings: run.timings,
    warnings: run.warnings,
  };
}

export type PlainRun = ReturnType<typeof plainRun>;
