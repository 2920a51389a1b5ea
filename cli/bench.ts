// `moec bench`: times a model on the WebGPU adapter at hand, whole and kernel by kernel, and in
// the same run the ratios that say whether the optimiser earns its keep: fused (-O2) against
// one kernel per op (-O0); the MoE block against a dense FFN with the same active multiply-adds
// (the sparse tax); an MH-MoE against the SMoE it matches; the largest GEMM against the best
// tiling of a standalone dense GEMM of its shape. Variants are measured in interleaved rounds,
// so a machine that slows down mid-run (shared CI hosts) skews every variant alike.
//
// The measurement functions are exported for bench/suite.ts (`npm run bench`).
import { performance } from "node:perf_hooks";
import {
  type GemmChooser,
  type GemmConfig,
  chooseGemm,
  fusedKernels,
  vectorWidth,
} from "../compiler/codegen/kernels/fused.js";
import { type DeviceProfile, profileOfDevice } from "../compiler/codegen/profile.js";
import { compileGraph } from "../compiler/compile.js";
import { modelCost, nodeCost } from "../compiler/costs.js";
import { compileToIR } from "../compiler/index.js";
import type { Graph, Node } from "../compiler/ir/graph.js";
import { resolveShape, symbolsOf } from "../compiler/ir/types.js";
import { type OptLevel, runPipeline } from "../compiler/passes/index.js";
import { type Plan, buildPlan } from "../compiler/plan.js";
import type { SourceHost } from "../compiler/sources.js";
import { formatDiagnostic } from "../grammar/diagnostics.js";
import { type MoecDevice, NoAdapterError } from "../runtime/device.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import { createRng, randomTensor } from "../runtime/random.js";
import { MoecRunError, Session, type TensorData } from "../runtime/session.js";
import { initWeights } from "../runtime/weights.js";
import {
  type Command,
  EXIT,
  type Io,
  type Parsed,
  frontEnd,
  hasGraph,
  positiveInt,
  usageError,
} from "./common.js";
import { nodeHost } from "./host.js";

// ---------------------------------------------------------------------------------------------
// Measurement

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function stats(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  const median =
    n === 0 ? NaN : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { median, min: sorted[0] ?? NaN, max: sorted[n - 1] ?? NaN, samples: [...samples] };
}

/** One thing to time: a lowered graph at a level, optionally with a pinned GEMM tiling. */
export interface BenchModel {
  readonly label: string;
  /** The front end's graph (before the pass pipeline). */
  readonly graph: Graph;
  readonly level: OptLevel;
  /** The GEMM tiling (-O2 only); default: chooseGemm for the device. */
  readonly gemm?: GemmChooser;
  /** Timed runs per round (default 1): more samples of a fast variant next to slow ones. */
  readonly runsPerRound?: number;
}

export interface KernelResult {
  readonly name: string;
  /** The IR ops the kernel implements. */
  readonly ops: readonly string[];
  /** Useful multiply-adds per run (costs.ts), for GFLOP/s = 2 · macs / time. */
  readonly macs: number;
  readonly ms: Stats;
  readonly gflops: number;
}

export interface ModelResult {
  readonly label: string;
  readonly level: OptLevel;
  readonly tokens: number;
  /** Sum of the kernel times of each run: GPU timestamps, or kernels timed one by one. */
  readonly ms: Stats;
  /** Submit to read-back of each run, inputs and outputs included (host clock). */
  readonly wallMs: Stats;
  /** When each sample of `ms` ran: the index of the run among all runs of the measurement. */
  readonly sequence: readonly number[];
  readonly timing: "gpu" | "cpu";
  readonly macs: number;
  /** Useful GFLOP/s at the median time. */
  readonly gflops: number;
  readonly kernels: readonly KernelResult[];
  readonly plan: Plan;
  readonly graph: Graph;
}

export interface MeasureOptions {
  readonly tokens: number;
  readonly warmup: number;
  readonly repeat: number;
  readonly seed?: number;
  /** Progress lines (stderr in the CLI). */
  readonly progress?: (line: string) => void;
}

/** Binds every symbolic dim of the graph (T) to `tokens`. */
function bindTokens(graph: Graph, tokens: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of graph.values) for (const s of symbolsOf(v.type.shape)) out[s] = tokens;
  return out;
}

/** The optimised graph and plan of a bench model for the device profile. */
export function compileBenchModel(
  model: BenchModel,
  profile: DeviceProfile,
): { graph: Graph; plan: Plan } {
  if (model.level === 0 || !model.gemm) {
    const { graph, plan } = compileGraph(model.graph, { level: model.level, profile });
    return { graph, plan };
  }
  const { graph } = runPipeline(model.graph, { level: model.level });
  const plan = buildPlan(graph, profile, { kernels: fusedKernels({ gemm: model.gemm }) });
  return { graph, plan };
}

/** Random inputs for T tokens: f32 in (-1, 1), token ids below the embedding's vocabulary. */
export function benchInputs(plan: Plan, tokens: number, seed: number): Map<string, TensorData> {
  const inputs = new Map<string, TensorData>();
  plan.inputs.forEach((input, i) => {
    const shape = resolveShape(input.shape, { T: tokens, ...symbolsTo(input.shape, tokens) });
    if (input.dtype === "i32") {
      const rng = createRng(seed, 1000 + i);
      const limit = input.idLimit ?? 1;
      const n = shape.reduce((a, b) => a * b, 1);
      inputs.set(input.name, {
        shape,
        data: Int32Array.from({ length: n }, () => rng.nextUint32() % limit),
      });
    } else inputs.set(input.name, { shape, data: randomTensor(shape, seed + i) });
  });
  return inputs;
}

function symbolsTo(shape: Plan["inputs"][number]["shape"], tokens: number): Record<string, number> {
  return Object.fromEntries(symbolsOf(shape).map((s) => [s, tokens]));
}

const fmtMs = (ms: number) =>
  ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);

/**
 * Times every model: `warmup` untimed runs each, then `repeat` rounds in which every model runs
 * `runsPerRound` times (default once), interleaved, each run profiled kernel by kernel.
 */
export async function measureModels(
  moec: MoecDevice,
  models: readonly BenchModel[],
  options: MeasureOptions,
): Promise<ModelResult[]> {
  const profile = profileOfDevice(moec);
  const seed = options.seed ?? 1;
  const say = options.progress ?? (() => {});
  const prepared: {
    model: BenchModel;
    graph: Graph;
    plan: Plan;
    session: Session;
    inputs: Map<string, TensorData>;
    wall: number[];
    total: number[];
    sequence: number[];
    kernels: number[][];
    timing: "gpu" | "cpu";
  }[] = [];
  try {
    for (const model of models) {
      say(`compiling ${model.label} (-O${model.level})`);
      const { graph, plan } = compileBenchModel(model, profile);
      const session = await Session.create(moec.device, plan, initWeights(plan, seed));
      prepared.push({
        model,
        graph,
        plan,
        session,
        inputs: benchInputs(plan, options.tokens, seed + 1),
        wall: [],
        total: [],
        sequence: [],
        kernels: plan.kernels.map(() => []),
        timing: "gpu",
      });
    }
    for (const p of prepared) {
      for (let i = 0; i < options.warmup; i++) {
        const start = performance.now();
        await p.session.run(p.inputs);
        say(
          `warm-up ${i + 1}/${options.warmup}: ${p.model.label} ${fmtMs(performance.now() - start)} ms`,
        );
      }
    }
    let runs = 0;
    for (let round = 0; round < options.repeat; round++) {
      // Sub-rounds: models with several runs per round alternate with each other, and the
      // last sub-round runs every model once (slow variants last).
      const most = Math.max(...prepared.map((q) => q.model.runsPerRound ?? 1));
      const order: typeof prepared = [];
      for (let sub = most - 1; sub >= 0; sub--)
        order.push(...prepared.filter((q) => (q.model.runsPerRound ?? 1) > sub));
      for (const p of order) {
        const start = performance.now();
        const result = await p.session.run(p.inputs, { profile: true });
        const wall = performance.now() - start;
        const timings = result.timings ?? [];
        const total = timings.reduce((s, t) => s + t.ms, 0);
        timings.forEach((t, k) => p.kernels[k]!.push(t.ms));
        p.timing = timings[0]?.source ?? "gpu";
        p.wall.push(wall);
        p.total.push(total);
        p.sequence.push(runs++);
        say(
          `run ${round + 1}/${options.repeat}: ${p.model.label} ${fmtMs(total)} ms (kernels), ${fmtMs(wall)} ms (wall)`,
        );
      }
    }
  } finally {
    for (const p of prepared) p.session.destroy();
  }
  return prepared.map((p) => {
    const bindings = bindTokens(p.graph, options.tokens);
    const kernels = p.plan.kernels.map((k, i): KernelResult => {
      const nodes = k.nodes.map((id) => p.graph.nodes[id]!);
      const macs = nodes.reduce((s, n) => s + nodeCost(p.graph, n, bindings).macs, 0);
      const ms = stats(p.kernels[i]!);
      return {
        name: k.name,
        ops: nodes.map((n) => n.op),
        macs,
        ms,
        gflops: gflops(macs, ms.median),
      };
    });
    const macs = kernels.reduce((s, k) => s + k.macs, 0);
    const ms = stats(p.total);
    return {
      label: p.model.label,
      level: p.model.level,
      tokens: options.tokens,
      ms,
      wallMs: stats(p.wall),
      sequence: p.sequence,
      timing: p.timing,
      macs,
      gflops: gflops(macs, ms.median),
      kernels,
      plan: p.plan,
      graph: p.graph,
    };
  });
}

/**
 * The median over the samples of `a` of a's time / b's time in the run of b nearest in the run
 * order: variants that ran back to back saw the same machine, so on a shared machine whose speed
 * drifts this is steadier than the ratio of the two medians.
 */
export function pairedRatio(a: ModelResult, b: ModelResult): number {
  const ratios = a.ms.samples.map((t, i) => {
    const at = a.sequence[i]!;
    let best = 0;
    b.sequence.forEach((bt, j) => {
      if (Math.abs(bt - at) < Math.abs(b.sequence[best]! - at)) best = j;
    });
    return t / b.ms.samples[best]!;
  });
  return stats(ratios).median;
}

export function gflops(macs: number, ms: number): number {
  return ms > 0 ? (2 * macs) / (ms * 1e6) : 0;
}

// ---------------------------------------------------------------------------------------------
// Graphs built for comparisons

/** The front end over one in-memory source, with `std/...` imports from the shipped library. */
export function graphFromSource(name: string, source: string): Graph {
  const host: SourceHost = {
    read: (file, within) => (file === name ? { text: source } : nodeHost.read(file, within)),
    stdRoot: nodeHost.stdRoot,
  };
  const result = compileToIR(name, host);
  if (!result.graph) {
    const text = result.diagnostics
      .map((d) => formatDiagnostic(d, result.program.texts))
      .join("\n");
    throw new Error(`internal error: generated model ${name} did not compile:\n${text}\n${source}`);
  }
  return result.graph;
}

/** A model of one layer over x: f32[T, dim]. */
function layerSource(model: string, layer: string, dim: number, out = dim, imports = ""): string {
  return (
    `${imports}model ${model}() {\n  l = ${layer}\n` +
    `  forward(x: f32[T, ${dim}]) -> y: f32[T, ${out}] {\n    return l(x)\n  }\n}\n`
  );
}

/** A dense x·Wᵀ of `inner` -> `out` features (bias-free Linear), for GEMM benchmarks. */
export function denseGemmGraph(inner: number, out: number): Graph {
  return graphFromSource(
    "dense_gemm.moe",
    layerSource("DenseGemm", `Linear(${inner}, ${out}, bias = false)`, inner, out),
  );
}

/** What a single MoE layer looks like: width, experts' activation and gating, per-token costs. */
export interface MoeLayerInfo {
  readonly dim: number;
  readonly heads: number;
  readonly experts: number;
  readonly topK: number;
  readonly act: string;
  readonly gated: boolean;
  /** Multiply-adds per token, router logits excluded (the parity papers' measure). */
  readonly macsPerToken: number;
  /** Parameters, routers excluded. */
  readonly params: number;
}

/** The MoE layer a graph is, or undefined (no routing, several MoE blocks, not [T, d] -> [T, d]). */
export function moeLayerInfo(graph: Graph): MoeLayerInfo | undefined {
  if (graph.routing.length !== 1 || graph.inputs.length !== 1 || graph.outputs.length !== 1)
    return undefined;
  const x = graph.values[graph.inputs[0]!.value]!.type;
  const y = graph.values[graph.outputs[0]!.value]!.type;
  if (x.dtype !== "f32" || x.shape.length !== 2 || typeof x.shape[1] !== "number") return undefined;
  if (y.shape.length !== 2 || y.shape[1] !== x.shape[1]) return undefined;
  if (graph.nodes.some((n) => n.op === "attention")) return undefined;
  const up = graph.nodes.find((n) => n.op === "expert_up") as Node<"expert_up"> | undefined;
  if (!up) return undefined;
  const site = graph.routing[0]!;
  const cost = modelCost(graph, 1);
  return {
    dim: x.shape[1],
    heads: site.heads,
    experts: site.experts,
    topK: site.topK,
    act: up.attrs.act,
    gated: up.attrs.gated,
    macsPerToken: cost.macsPerToken - cost.routerMacsPerToken,
    params: cost.params - cost.routerParams,
  };
}

/**
 * The dense FFN with the MoE layer's active multiply-adds per token (same activation and gating):
 * hidden = macs / (3·dim) gated, macs / (2·dim) otherwise, rounded to a multiple of 8.
 */
export function denseFfnFor(info: MoeLayerInfo): {
  graph: Graph;
  hidden: number;
  macsPerToken: number;
} {
  const perHidden = (info.gated ? 3 : 2) * info.dim;
  const hidden = Math.max(8, Math.round(info.macsPerToken / perHidden / 8) * 8);
  const layer = `FFN(${info.dim}, ${hidden}, act = ${info.act}, gated = ${info.gated})`;
  return {
    graph: graphFromSource("dense_ffn.moe", layerSource("DenseFFN", layer, info.dim)),
    hidden,
    macsPerToken: perHidden * hidden,
  };
}

/**
 * The SMoE an MH-MoE matches: same width, top-k, activation and gating, expert width for the
 * same multiply-adds per token (a multiple of 8), experts for the same parameters.
 */
export function matchedSmoeFor(info: MoeLayerInfo): {
  graph: Graph;
  ffn: number;
  experts: number;
  macsPerToken: number;
} {
  const perWidth = (info.gated ? 3 : 2) * info.dim;
  const ffn = Math.max(8, Math.round(info.macsPerToken / (perWidth * info.topK) / 8) * 8);
  const experts = Math.max(info.topK, Math.round(info.params / (perWidth * ffn)));
  const layer =
    `SMoE(${info.dim}, experts = ${experts}, top_k = ${info.topK}, ffn = ${ffn}, ` +
    `act = ${info.act}, gated = ${info.gated})`;
  return {
    graph: graphFromSource(
      "matched_smoe.moe",
      layerSource("MatchedSMoE", layer, info.dim, info.dim, 'import "std/moe.moe"\n'),
    ),
    ffn,
    experts,
    macsPerToken: perWidth * ffn * info.topK,
  };
}

// ---------------------------------------------------------------------------------------------
// GEMMs

/** The ops whose kernels are GEMMs. */
const GEMM_OPS = new Set([
  "linear",
  "linear_epilogue",
  "linear_glu",
  "combine_linear",
  "moe_grouped_up",
  "moe_grouped_down",
  "expert_up",
  "expert_down",
]);

/** A GEMM as the dense product it is equivalent to: rows x inner -> out (both of a gated pair). */
export interface GemmDims {
  readonly rows: number;
  readonly inner: number;
  readonly out: number;
}

/** The largest GEMM kernel of a result (by multiply-adds) and its dense-equivalent shape. */
export function largestGemm(
  result: ModelResult,
): { kernel: KernelResult; dims: GemmDims } | undefined {
  let best: { kernel: KernelResult; dims: GemmDims } | undefined;
  result.plan.kernels.forEach((k, i) => {
    const kernel = result.kernels[i]!;
    const node = k.nodes.map((id) => result.graph.nodes[id]!).find((n) => GEMM_OPS.has(n.op));
    if (!node || (best && best.kernel.macs >= kernel.macs)) return;
    const dims = gemmDims(result.graph, node, kernel.macs);
    if (dims) best = { kernel, dims };
  });
  return best;
}

function gemmDims(graph: Graph, node: Node, macs: number): GemmDims | undefined {
  const shape = (i: number) => graph.values[node.inputs[i]!]!.type.shape as number[];
  let out: number;
  let inner: number;
  switch (node.op) {
    case "linear":
    case "linear_epilogue":
    case "combine_linear":
      [out, inner] = shape(1) as [number, number];
      break;
    case "linear_glu":
      [out, inner] = shape(1) as [number, number];
      out *= 2;
      break;
    case "moe_grouped_up":
    case "expert_up": {
      const w = shape(node.op === "expert_up" ? 2 : 4);
      const gated = (node.attrs as { gated: boolean }).gated;
      [out, inner] = [w[1]! * (gated ? 2 : 1), w[2]!];
      break;
    }
    case "moe_grouped_down":
    case "expert_down": {
      const w = shape(node.op === "expert_down" ? 3 : 5);
      [out, inner] = [w[1]!, w[2]!];
      break;
    }
    default:
      return undefined;
  }
  const rows = Math.round(macs / (out * inner));
  return rows > 0 ? { rows, inner, out } : undefined;
}

/** Tilings to try for a dense GEMM on this device: the default and its neighbours. */
export function sweepConfigs(profile: DeviceProfile, dims: GemmDims): GemmConfig[] {
  const base = chooseGemm(profile, { out: dims.out, inner: dims.inner, weights: 1 });
  const vec = vectorWidth([dims.inner]);
  const limit = Math.min(
    profile.maxComputeInvocationsPerWorkgroup,
    profile.maxComputeWorkgroupSizeX,
  );
  const out: GemmConfig[] = [base];
  const shares: (0 | 8)[] = profile.features.includes("subgroups") ? [8, 0] : [0];
  for (const share of shares) {
    const tms = share > 0 ? [8, 16, 32] : [4, 8, 16];
    for (const tm of tms)
      for (const tn of [2, 4])
        for (const wg of [32, 64]) {
          if (wg > limit) continue;
          // Without subgroups keep the sweep short: the unshared loop is the fallback, not a contender.
          if (share === 0 && !(tn === 4 && wg === 64)) continue;
          out.push({ tm, tn, wg, vec, share });
        }
  }
  const key = (c: GemmConfig) => `${c.tm}:${c.tn}:${c.wg}:${c.vec}:${c.share}`;
  return out.filter((c, i) => out.findIndex((d) => key(d) === key(c)) === i);
}

export function describeConfig(c: GemmConfig): string {
  return `tm=${c.tm} tn=${c.tn} wg=${c.wg} vec${c.vec}${c.share ? ` subgroup-shared x${c.share}` : " no subgroups"}`;
}

export interface SweepResult {
  readonly dims: GemmDims;
  readonly results: readonly { config: GemmConfig; result: ModelResult }[];
  readonly best: { config: GemmConfig; result: ModelResult };
  /** The kernel-time of the device's default tiling (chooseGemm). */
  readonly default: { config: GemmConfig; result: ModelResult };
}

/** Times a standalone dense GEMM of `dims` at every tiling of sweepConfigs. */
export async function gemmSweep(
  moec: MoecDevice,
  dims: GemmDims,
  options: Omit<MeasureOptions, "tokens">,
  configs = sweepConfigs(profileOfDevice(moec), dims),
): Promise<SweepResult> {
  const graph = denseGemmGraph(dims.inner, dims.out);
  const models = configs.map((config) => ({
    label: `GEMM ${dims.rows}x${dims.inner}x${dims.out} ${describeConfig(config)}`,
    graph,
    level: 2 as const,
    gemm: () => config,
  }));
  const measured = await measureModels(moec, models, { ...options, tokens: dims.rows });
  const results = measured.map((result, i) => ({ config: configs[i]!, result }));
  const best = results.reduce((a, b) => (b.result.ms.median < a.result.ms.median ? b : a));
  return { dims, results, best, default: results[0]! };
}

// ---------------------------------------------------------------------------------------------
// The command

export interface Ratio {
  readonly name: string;
  /** a / b of median kernel times (e.g. MoE / dense), or undefined where it does not apply. */
  readonly value?: number;
  /** The median of the ratios of runs that ran back to back (pairedRatio). */
  readonly paired?: number;
  /** The ratio per useful multiply-add, where the two sides' work differs. */
  readonly perMac?: number;
  readonly note: string;
}

export interface BenchReport {
  readonly adapter: string;
  readonly command: string;
  readonly tokens: number;
  readonly warmup: number;
  readonly repeat: number;
  readonly results: readonly ModelResult[];
  readonly ratios: readonly Ratio[];
  readonly sweep?: SweepResult;
}

export const bench: Command = {
  summary: "time a model on the WebGPU adapter: per kernel, GFLOP/s, fused vs -O0, sparse tax",
  usage:
    "moec bench FILE [--model NAME] [--set NAME=VALUE]... [--tokens N] [-O0|-O2] [--repeat N] [--warmup N] [--compare FILE2 [--set-b NAME=VALUE]...] [--quick] [--json]",
  details: `Runs the model on random inputs: warm-up runs, then --repeat rounds; reports the median,
min and max time of the whole model (sum of its kernels, GPU timestamps where the adapter has
them, else kernels timed one by one; and wall time, read-back included) and of every kernel,
with useful GFLOP/s (2 x multiply-adds of the IR, costs.ts). In the same run, interleaved:
  fused vs -O0      the other level of the same model
  sparse tax        a single MoE layer against a dense FFN with its active multiply-adds
  parity            an MH-MoE against the SMoE it matches (built from its costs), or FILE
                    against --compare FILE2
  largest GEMM      its GFLOP/s against the best tiling of a standalone dense GEMM of its shape
Progress goes to stderr.
  --tokens N        sequence length T (default 2048)
  -O0, -O2          the level of the model timed (default -O2)
  --repeat N        timed rounds (default 3); --warmup N untimed runs first (default 1)
  --compare FILE2   the model to compare against (parity); --set-b overrides its parameters
  --quick           the model alone: no comparison runs
  --json            the report as JSON`,
  options: {
    model: { type: "string" },
    set: { type: "string", multiple: true },
    "set-b": { type: "string", multiple: true },
    tokens: { type: "string" },
    O: { type: "string", short: "O" },
    repeat: { type: "string" },
    warmup: { type: "string" },
    compare: { type: "string" },
    quick: { type: "boolean" },
    json: { type: "boolean" },
  },
  run: (args, io) => runBench(args, io),
};

async function runBench(args: Parsed, io: Io): Promise<number> {
  const [file] = args.positionals;
  if (!file || args.positionals.length > 1) return usageError(io, "bench takes one FILE");
  const tokens = positiveInt(args.values.tokens as string | undefined, 2048);
  const repeat = positiveInt(args.values.repeat as string | undefined, 3);
  const warmupText = args.values.warmup as string | undefined;
  const warmup = warmupText === "0" ? 0 : positiveInt(warmupText, 1);
  if (tokens === undefined || repeat === undefined || warmup === undefined)
    return usageError(io, "--tokens and --repeat must be positive integers, --warmup >= 0");
  const o = (args.values.O as string | undefined) ?? "2";
  if (o !== "0" && o !== "2") return usageError(io, `unknown level -O${o} (-O0, -O2)`);
  const level: OptLevel = o === "0" ? 0 : 2;
  const compareFile = args.values.compare as string | undefined;
  if (args.values["set-b"] && !compareFile) return usageError(io, "--set-b needs --compare FILE2");

  const result = frontEnd(file, args, io);
  if (!hasGraph(file, result, io)) return EXIT.errors;
  let compareGraph: Graph | undefined;
  if (compareFile) {
    const b = frontEnd(
      compareFile,
      { values: { set: args.values["set-b"] ?? [] }, positionals: [compareFile] },
      io,
    );
    if (!hasGraph(compareFile, b, io)) return EXIT.errors;
    compareGraph = b.graph;
  }

  let moec: MoecDevice;
  try {
    moec = await createNodeDevice();
  } catch (e) {
    if (e instanceof NoAdapterError) {
      io.err(`moec: ${e.message}\n`);
      return EXIT.errors;
    }
    throw e;
  }
  const progress = (line: string) => io.err(`[bench] ${line}\n`);
  const command = ["moec", "bench", ...rawArgs(args)].join(" ");
  try {
    const report = await benchReport(moec, {
      file,
      graph: result.graph,
      compareFile,
      compareGraph,
      level,
      tokens,
      warmup,
      repeat,
      quick: Boolean(args.values.quick),
      command,
      progress,
    });
    io.out(
      args.values.json ? JSON.stringify(reportJson(report), null, 2) + "\n" : formatReport(report),
    );
    return EXIT.ok;
  } catch (e) {
    if (e instanceof MoecRunError) {
      io.err(`moec: ${e.message}\n`);
      return EXIT.errors;
    }
    throw e;
  } finally {
    moec.device.destroy();
  }
}

/** The command line as given (for the report), rebuilt from the parsed options. */
function rawArgs(args: Parsed): string[] {
  const out = [...args.positionals];
  for (const [name, value] of Object.entries(args.values)) {
    if (value === undefined || value === false) continue;
    const flag = name === "O" ? "-O" : `--${name}`;
    if (value === true) out.push(flag);
    else if (Array.isArray(value)) for (const v of value) out.push(`${flag} ${v}`);
    else out.push(name === "O" ? `-O${value}` : `${flag} ${value}`);
  }
  return out;
}

export interface BenchRequest {
  readonly file: string;
  readonly graph: Graph;
  readonly compareFile?: string;
  readonly compareGraph?: Graph;
  readonly level: OptLevel;
  readonly tokens: number;
  readonly warmup: number;
  readonly repeat: number;
  readonly quick: boolean;
  readonly command: string;
  readonly progress: (line: string) => void;
}

/** Everything `moec bench` measures, as data. */
export async function benchReport(moec: MoecDevice, req: BenchRequest): Promise<BenchReport> {
  const name = req.graph.name;
  const models: BenchModel[] = [
    { label: `${name} -O${req.level}`, graph: req.graph, level: req.level },
  ];
  const other: OptLevel = req.level === 2 ? 0 : 2;
  const info = moeLayerInfo(req.graph);
  const notes: Record<string, string> = {};
  let dense: ReturnType<typeof denseFfnFor> | undefined;
  let matched: ReturnType<typeof matchedSmoeFor> | undefined;
  if (!req.quick) {
    models.push({ label: `${name} -O${other}`, graph: req.graph, level: other });
    if (info) {
      dense = denseFfnFor(info);
      models.push({ label: `dense FFN hidden=${dense.hidden} -O2`, graph: dense.graph, level: 2 });
    }
    if (req.compareGraph) {
      models.push({
        label: `${req.compareGraph.name} -O2 (--compare)`,
        graph: req.compareGraph,
        level: 2,
      });
    } else if (info && info.heads > 1) {
      matched = matchedSmoeFor(info);
      models.push({
        label: `matched SMoE experts=${matched.experts} ffn=${matched.ffn} -O2`,
        graph: matched.graph,
        level: 2,
      });
    }
  }
  const results = await measureModels(moec, models, {
    tokens: req.tokens,
    warmup: req.warmup,
    repeat: req.repeat,
    progress: req.progress,
  });
  const byLabel = (label: string) => results.find((r) => r.label === label);
  const main = results[0]!;
  const o2 = byLabel(`${name} -O2`);
  const o0 = byLabel(`${name} -O0`);
  const ratios: Ratio[] = [];
  if (o2 && o0) {
    ratios.push({
      name: "fused -O2 vs -O0",
      value: o0.ms.median / o2.ms.median,
      paired: 1 / pairedRatio(o2, o0),
      note: `-O0 ${fmtMs(o0.ms.median)} ms / -O2 ${fmtMs(o2.ms.median)} ms (speed-up)`,
    });
  }
  const fused = o2 ?? main;
  if (dense && info) {
    const d = results.find((r) => r.label.startsWith("dense FFN"))!;
    const ratio = fused.ms.median / d.ms.median;
    ratios.push({
      name: "sparse tax (MoE layer / dense FFN, same active MACs)",
      value: ratio,
      paired: pairedRatio(fused, d),
      perMac: ratio * (dense.macsPerToken / info.macsPerToken),
      note:
        `${fmtMs(fused.ms.median)} ms / ${fmtMs(d.ms.median)} ms; dense FFN(${info.dim}, ${dense.hidden}, ` +
        `${info.gated ? "gated " : ""}${info.act}): ${dense.macsPerToken} MACs/token vs ${info.macsPerToken}`,
    });
  } else if (!req.quick) notes.sparse = "not a single MoE layer [T, d] -> [T, d]";
  const cmp = results.find(
    (r) => r.label.endsWith("(--compare)") || r.label.startsWith("matched SMoE"),
  );
  if (cmp) {
    // The lowered graph: the optimised one has no expert_up left to describe.
    const cmpInfo = moeLayerInfo(models.find((m) => m.label === cmp.label)!.graph);
    const ratio = fused.ms.median / cmp.ms.median;
    const macsA = info?.macsPerToken;
    const macsB = cmpInfo?.macsPerToken;
    ratios.push({
      name: `parity (${name} / ${req.compareGraph ? req.compareFile : "matched SMoE"})`,
      value: ratio,
      paired: pairedRatio(fused, cmp),
      ...(macsA && macsB ? { perMac: ratio * (macsB / macsA) } : {}),
      note:
        `${fmtMs(fused.ms.median)} ms / ${fmtMs(cmp.ms.median)} ms` +
        (macsA && macsB ? `; MACs/token ${macsA} vs ${macsB}` : ""),
    });
  } else if (!req.quick) notes.parity = "not an MH-MoE layer; pass --compare FILE2";

  let sweep: SweepResult | undefined;
  const gemm = largestGemm(fused);
  if (!req.quick && gemm && fused.level === 2) {
    req.progress(
      `GEMM sweep: dense ${gemm.dims.rows}x${gemm.dims.inner}x${gemm.dims.out} (shape of ${gemm.kernel.name})`,
    );
    sweep = await gemmSweep(moec, gemm.dims, {
      warmup: req.warmup,
      repeat: req.repeat,
      progress: req.progress,
    });
    const best = sweep.best.result;
    ratios.push({
      name: "largest GEMM vs best tiled dense GEMM",
      value: gemm.kernel.gflops / best.gflops,
      note:
        `${gemm.kernel.name}: ${gemm.kernel.gflops.toFixed(1)} GFLOP/s; best tiling of a dense ` +
        `${gemm.dims.rows}x${gemm.dims.inner}x${gemm.dims.out}: ${best.gflops.toFixed(1)} GFLOP/s (${describeConfig(sweep.best.config)})`,
    });
  }
  for (const [key, note] of Object.entries(notes))
    ratios.push({ name: key === "sparse" ? "sparse tax" : "parity", note: `n/a: ${note}` });
  return {
    adapter: moec.describeAdapter(),
    command: req.command,
    tokens: req.tokens,
    warmup: req.warmup,
    repeat: req.repeat,
    results,
    ratios,
    ...(sweep && { sweep }),
  };
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number, n = 9) => fmtMs(x).padStart(n);

/** The human-readable report. */
export function formatReport(r: BenchReport): string {
  const lines = [`adapter: ${r.adapter}`, `command: ${r.command}`, ""];
  lines.push(
    `T = ${r.tokens}; ${r.warmup} warm-up run(s), then ${r.repeat} timed round(s), variants interleaved; times in ms`,
  );
  const main = r.results[0]!;
  const rows = [main, ...r.results.slice(1)];
  lines.push("");
  lines.push(
    `${pad("model", 44)} ${"median".padStart(9)} ${"min".padStart(9)} ${"max".padStart(9)} ${"wall".padStart(9)} ${"GFLOP/s".padStart(8)}`,
  );
  for (const m of rows) {
    lines.push(
      `${pad(m.label, 44)} ${num(m.ms.median)} ${num(m.ms.min)} ${num(m.ms.max)} ${num(m.wallMs.median)} ${m.gflops.toFixed(1).padStart(8)}`,
    );
  }
  lines.push(
    `(model time = sum of its kernels, ${main.timing === "gpu" ? "GPU timestamp queries" : "each kernel submitted alone, host clock"}; wall = submit to read-back)`,
  );
  lines.push("");
  lines.push(`kernels of ${main.label}:`);
  lines.push(
    `${pad("kernel", 52)} ${"median".padStart(9)} ${"min".padStart(9)} ${"max".padStart(9)} ${"share".padStart(6)} ${"GFLOP/s".padStart(8)}`,
  );
  for (const k of main.kernels) {
    const share = main.ms.median > 0 ? (100 * k.ms.median) / main.ms.median : 0;
    lines.push(
      `${pad(k.name, 52)} ${num(k.ms.median)} ${num(k.ms.min)} ${num(k.ms.max)} ${`${share.toFixed(1)}%`.padStart(6)} ${(k.macs > 0 ? k.gflops.toFixed(1) : "-").padStart(8)}`,
    );
  }
  if (r.ratios.length > 0) {
    lines.push("");
    lines.push("ratios (of medians; paired: median ratio of runs that ran back to back):");
    for (const q of r.ratios) {
      const value = q.value === undefined ? "" : `${q.value.toFixed(2)}`;
      const paired = q.paired === undefined ? "" : `, paired runs ${q.paired.toFixed(2)}`;
      const perMac = q.perMac === undefined ? "" : `, per MAC ${q.perMac.toFixed(2)}`;
      lines.push(`  ${pad(q.name, 52)} ${value}${paired}${perMac}`);
      lines.push(`    ${q.note}`);
    }
  }
  if (r.sweep) {
    lines.push("");
    lines.push(
      `GEMM tilings, dense ${r.sweep.dims.rows}x${r.sweep.dims.inner}x${r.sweep.dims.out}:`,
    );
    for (const s of r.sweep.results) {
      const mark = s === r.sweep.best ? " <- best" : s === r.sweep.default ? " (default)" : "";
      lines.push(
        `  ${pad(describeConfig(s.config), 44)} ${num(s.result.ms.median)} ms ${s.result.gflops.toFixed(1).padStart(7)} GFLOP/s${mark}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** The report as JSON: no plans or graphs, samples kept. */
export function reportJson(r: BenchReport): unknown {
  const model = (m: ModelResult) => ({
    label: m.label,
    level: m.level,
    tokens: m.tokens,
    timing: m.timing,
    ms: m.ms,
    wallMs: m.wallMs,
    macs: m.macs,
    gflops: m.gflops,
    kernels: m.kernels,
  });
  return {
    adapter: r.adapter,
    command: r.command,
    tokens: r.tokens,
    warmup: r.warmup,
    repeat: r.repeat,
    models: r.results.map(model),
    ratios: r.ratios,
    ...(r.sweep && {
      gemmSweep: {
        dims: r.sweep.dims,
        best: describeConfig(r.sweep.best.config),
        results: r.sweep.results.map((s) => ({
          config: s.config,
          ms: s.result.ms,
          gflops: s.result.gflops,
        })),
      },
    }),
  };
}
