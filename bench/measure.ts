// Timing compiled models on a WebGPU device: each model compiled through the one compile entry,
// warm-up runs, then rounds in which every model runs (interleaved, so a machine that slows down
// mid-run skews every variant alike), each run profiled kernel by kernel. Medians, minima and
// paired ratios of the samples. Used by `moec bench` (bench/report.ts) and bench/suite.ts.
import { performance } from "node:perf_hooks";
import type { TilingChoices } from "../compiler/codegen/kernels/common.js";
import { compileGraph } from "../compiler/compile.js";
import { nodeCost } from "../compiler/costs.js";
import type { Graph } from "../compiler/ir/graph.js";
import { resolveShape, symbolsOf } from "../compiler/ir/types.js";
import type { OptLevel } from "../compiler/passes/index.js";
import type { Plan } from "../plan/format.js";
import { profileOfDevice } from "../plan/profile.js";
import type { MoecDevice } from "../runtime/device.js";
import { createRng, randomTensor } from "../runtime/random.js";
import { Session, type TensorData } from "../runtime/session.js";
import { initWeights } from "../runtime/weights.js";

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

/** One thing to time: a lowered graph at a level, optionally with fixed codegen choices. */
export interface BenchModel {
  readonly label: string;
  /** The front end's graph (before the pass pipeline). */
  readonly graph: Graph;
  readonly level: OptLevel;
  /** Codegen choices to fix, e.g. a GEMM tiling (-O2 only); default: chosen for the device. */
  readonly tiling?: TilingChoices;
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

export const fmtMs = (ms: number) =>
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
      say(`compiling ${model.label}`);
      const { graph, plan } = compileGraph(model.graph, {
        level: model.level,
        profile,
        ...(model.tiling && { tiling: model.tiling }),
      });
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

/** Aligned tables, as `npm run format` would write them (prettier is a dev dependency). */
export async function formatMarkdown(text: string): Promise<string> {
  try {
    const prettier = await import("prettier");
    return await prettier.format(text, { parser: "markdown" });
  } catch {
    return text;
  }
}
