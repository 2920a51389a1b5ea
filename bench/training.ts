// Training speed and memory of small language models, in one run per model: the median time of
// one training step (forward, loss, backward and AdamW over a batch) against the forward pass of
// the same batch; the useful GFLOP/s of the MoE kernels of the backward against those of the
// forward (per-kernel GPU timestamps of one profiled step); and the GPU memory the trainer holds
// (every buffer of the step plan + the optimiser's buffers) against weights + gradients + Adam's
// two moments. Every model is measured at -O0 (one simple kernel per op) and at -O2 (fused and
// tiled forward and backward), so the two levels' step times sit side by side in one run.
//
//   npm run bench:train -- [--steps N] [--batch B] [--seq S] [--set NAME=VALUE]...
//
// A benchmark, not a test: it prints medians and ratios and never fails on a slow machine.
// Progress goes to stderr.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { trainingGraph } from "../compiler/autodiff/train.js";
import { compileTraining } from "../compiler/autodiff/compileTraining.js";
import { compileGraph } from "../compiler/compile.js";
import { nodeCost } from "../compiler/costs.js";
import type { Graph } from "../compiler/ir/graph.js";
import type { Plan } from "../plan/format.js";
import { profileOfDevice } from "../plan/profile.js";
import { evalSize } from "../plan/size.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import { Session } from "../runtime/session.js";
import { ByteCorpus, BYTE_VOCAB } from "../runtime/train/data.js";
import { DEFAULT_OPTIMIZER } from "../runtime/train/schedule.js";
import { Trainer } from "../runtime/train/trainer.js";
import { initWeights } from "../runtime/weights.js";
import { gflops, stats } from "./measure.js";
import { loadSpec } from "./layers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "5" },
    batch: { type: "string", default: "2" },
    seq: { type: "string", default: "64" },
    set: { type: "string", multiple: true },
  },
});
const STEPS = Math.max(2, Number(values.steps));
const BATCH = Math.max(1, Number(values.batch));
const SEQ = Math.max(2, Number(values.seq));
/** A modest size of the shipped LMs: two layers, one of them MoE. */
const SIZE = values.set ?? ["dim=64", "layers=2", "attn_heads=2", `vocab=${BYTE_VOCAB}`];
const MODELS = [
  { label: "lm_smoe", file: "models/lm_smoe.moe", sets: ["moe_ffn=128"] },
  { label: "lm_mh_moe h=2", file: "models/lm_mh_moe.moe", sets: ["moe_ffn=64"] },
];
const say = (line: string) => process.stderr.write(`[bench:train] ${line}\n`);

/** IR ops of the MoE layer (routing, permutation, expert GEMMs, combine) and their gradients. */
const MOE_OPS = /^(route|moe_|expert_|combine|capacity|balance_loss)/;

const load = (file: string, sets: readonly string[]) => loadSpec(file, [...SIZE, ...sets]);

/** Bytes of every buffer of a plan at T = tokens. */
function planBytes(plan: Plan, tokens: number): number {
  return plan.buffers.reduce((s, b) => s + evalSize(b.bytes, { T: tokens }), 0);
}

interface KernelSample {
  readonly backward: boolean;
  readonly moe: boolean;
  readonly macs: number;
  readonly ms: number;
}

/** The kernels of a profiled run, classed by pass and by whether they are MoE kernels. */
function kernelSamples(
  graph: Graph,
  plan: Plan,
  timings: readonly { ms: number }[],
  tokens: number,
): KernelSample[] {
  // The backward starts at the loss's seed (autodiff/train.ts); passes keep the node order.
  const seed = graph.nodes.findIndex((n) => n.op === "fill" && n.scope === "loss");
  const backwardFrom = seed < 0 ? Infinity : seed;
  return plan.kernels.map((k, i) => {
    const nodes = k.nodes.map((id) => graph.nodes[id]!);
    return {
      backward: nodes.some((n) => n.id >= backwardFrom),
      moe: nodes.some((n) => MOE_OPS.test(n.op)),
      macs: nodes.reduce((s, n) => s + nodeCost(graph, n, { T: tokens }).macs, 0),
      ms: timings[i]?.ms ?? 0,
    };
  });
}

function rate(samples: readonly KernelSample[]): { macs: number; ms: number; gflops: number } {
  const macs = samples.reduce((s, k) => s + k.macs, 0);
  const ms = samples.reduce((s, k) => s + k.ms, 0);
  return { macs, ms, gflops: gflops(macs, ms) };
}

const moec = await createNodeDevice();
const profile = profileOfDevice(moec);
const corpus = new ByteCorpus(readFileSync(path.join(ROOT, "README.md")), SEQ, "README.md");
const LEVELS = [0, 2] as const;
const lines = [
  `adapter: ${moec.describeAdapter()}`,
  `size: ${SIZE.join(" ")}; batch ${BATCH} x ${SEQ} bytes; ${STEPS} timed steps and forwards (median) per level`,
  "",
];
const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
for (const model of MODELS) {
  const forward = load(model.file, model.sets);
  const stepMedian = new Map<number, number>();
  for (const level of LEVELS) {
    say(`compiling ${model.label} -O${level}`);
    const plan = compileTraining(forward, { profile, level });
    const weights = initWeights(plan.step, 1);
    const trainer = await Trainer.create(moec.device, plan, weights, {
      ...DEFAULT_OPTIMIZER,
      lr: 1e-3,
      steps: STEPS + 1,
      warmup: 1,
    });
    const fwd = compileGraph(forward, { level, profile });
    const fwdSession = await Session.create(moec.device, fwd.plan, weights);
    const batchOf = (step: number) => corpus.batch(step, BATCH, 7);
    const runForward = async (step: number) => {
      for (const s of batchOf(step))
        await fwdSession.run(new Map([["ids", { shape: [SEQ], data: s.ids }]]));
    };
    // Warm-up (pipelines compile on first use), then interleaved step / forward pairs.
    await trainer.step(batchOf(1));
    await runForward(1);
    const stepMs: number[] = [];
    const fwdMs: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      let t = performance.now();
      await trainer.step(batchOf(i + 2));
      stepMs.push(performance.now() - t);
      t = performance.now();
      await runForward(i + 2);
      fwdMs.push(performance.now() - t);
      say(
        `${model.label} -O${level} ${i + 1}/${STEPS}: step ${stepMs.at(-1)!.toFixed(0)} ms, forward ${fwdMs.at(-1)!.toFixed(0)} ms`,
      );
    }
    // One profiled run of the step graph and of the forward, for per-kernel GPU times.
    const compiled = compileGraph(trainingGraph(forward), { level, profile });
    const stepSession = await Session.create(moec.device, compiled.plan, weights);
    const seq = batchOf(1)[0]!;
    const ids = new Map([["ids", { shape: [SEQ], data: seq.ids }]]);
    const inputs = new Map([...ids, ["targets", { shape: [SEQ], data: seq.targets }]]);
    await stepSession.run(inputs);
    const stepProfile = await stepSession.run(inputs, { profile: true });
    await fwdSession.run(ids);
    const fwdProfile = await fwdSession.run(ids, { profile: true });
    const inStep = kernelSamples(compiled.graph, compiled.plan, stepProfile.timings ?? [], SEQ);
    const inFwd = kernelSamples(fwd.graph, fwd.plan, fwdProfile.timings ?? [], SEQ);
    const moeFwd = rate(inFwd.filter((k) => k.moe));
    const moeBwd = rate(inStep.filter((k) => k.moe && k.backward));
    const allBwd = rate(inStep.filter((k) => k.backward));
    const source = stepProfile.timings?.[0]?.source ?? "none";

    const params = plan.params.reduce((sum, p) => sum + p.elements, 0);
    const ideal = 4 * params * 4; // weights, gradients, Adam's m and v (f32)
    // The trainer's own buffers: the batch's summed gradient, m and v per weight, small scalars.
    const optimizerBytes = 3 * plan.params.reduce((sum, p) => sum + 4 * Math.max(4, p.elements), 0);
    const peak = planBytes(plan.step, SEQ) + optimizerBytes;
    const step = stats(stepMs);
    const fw = stats(fwdMs);
    stepMedian.set(level, step.median);
    lines.push(
      `## ${model.label} (${model.sets.join(" ")}) -O${level}: ${params} weights, ${compiled.plan.kernels.length} step kernels, ${fwd.plan.kernels.length} forward kernels`,
      `training step: median ${step.median.toFixed(1)} ms (min ${step.min.toFixed(1)}); forward of the same batch at -O${level}: median ${fw.median.toFixed(1)} ms (min ${fw.min.toFixed(1)})`,
      `step / forward: ${(step.median / fw.median).toFixed(2)} forwards (goal: at most 3.5)`,
      `MoE kernels (${source} timestamps, one sequence): forward ${moeFwd.gflops.toFixed(2)} GFLOP/s ` +
        `(${(moeFwd.macs / 1e6).toFixed(2)} M MACs in ${moeFwd.ms.toFixed(2)} ms); ` +
        `backward ${moeBwd.gflops.toFixed(2)} GFLOP/s (${(moeBwd.macs / 1e6).toFixed(2)} M MACs in ${moeBwd.ms.toFixed(2)} ms); ` +
        `backward / forward ${(moeBwd.gflops / moeFwd.gflops).toFixed(2)}`,
      `whole backward (one sequence): ${(allBwd.macs / 1e6).toFixed(2)} M MACs in ${allBwd.ms.toFixed(2)} ms, ${allBwd.gflops.toFixed(2)} GFLOP/s`,
      `GPU memory: ${mib(peak)} held (step plan buffers ${mib(planBytes(plan.step, SEQ))} + optimiser ${mib(optimizerBytes)}) ` +
        `vs weights + gradients + Adam m, v ${mib(ideal)}: ${(peak / ideal).toFixed(2)}x`,
      "",
    );
    stepSession.destroy();
    fwdSession.destroy();
    trainer.destroy();
  }
  lines.push(
    `${model.label}: a -O2 step takes ${(stepMedian.get(2)! / stepMedian.get(0)!).toFixed(2)}x the time of a -O0 step`,
    "",
  );
}
process.stdout.write(lines.join("\n"));
moec.device.destroy();
process.exit(0);
