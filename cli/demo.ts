// The main job (`npm run demo`): the shipped SMoE and MH-MoE-at-parity layers on WebGPU.
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { profileOfDevice } from "../compiler/codegen/profile.js";
import { compileGraph } from "../compiler/compile.js";
import { fmt, modelCost } from "../compiler/costs.js";
import { MODELS_DIR } from "../compiler/node/host.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import { randomTensor } from "../runtime/random.js";
import { Session } from "../runtime/session.js";
import { initWeights } from "../runtime/weights.js";
import {
  EXIT,
  type Command,
  type Io,
  type Parsed,
  frontEnd,
  positiveInt,
  usageError,
} from "./common.js";
import { formatRouting, summarise } from "./report.js";
import { isUserFacing, levelOption, nonNegativeInt, optLevel } from "./run.js";

/** The models of the main job: the shipped SMoE and MH-MoE-at-parity layers at their defaults. */
const DEMO_MODELS = ["smoe.moe", "mh_moe_parity.moe"];

export const demo: Command = {
  summary: "the main job: run the shipped SMoE and MH-MoE models on WebGPU and report",
  usage: "moec demo [--tokens N] [--seed N] [-O0|-O2]",
  details: `Compiles models/smoe.moe and models/mh_moe_parity.moe at their defaults (d = 768, the
2411.16205 configurations), runs each on the WebGPU adapter Dawn finds with seeded random weights
and inputs, and prints the adapter, costs, an output summary, the routing statistics and the time.
  --tokens N        tokens per batch (default 128)
  --seed N          weight and input seed (default 0)`,
  options: { ...levelOption, tokens: { type: "string" }, seed: { type: "string" } },
  async run(args, io) {
    try {
      return await runDemo(args, io);
    } catch (e) {
      if (!isUserFacing(e)) throw e;
      io.err(`moec: ${e.message}\n`);
      return EXIT.errors;
    }
  },
};

async function runDemo(args: Parsed, io: Io): Promise<number> {
  const tokens = positiveInt(args.values.tokens as string | undefined, 128);
  const seed = nonNegativeInt((args.values.seed as string | undefined) ?? "0");
  const level = optLevel(args);
  if (tokens === undefined || seed === undefined || level === undefined)
    return usageError(io, "bad --tokens, --seed or -O");
  const moec = await createNodeDevice();
  io.out(
    `moec demo: ${tokens} tokens, seed ${seed}, -O${level}\nadapter: ${moec.describeAdapter()}\n`,
  );
  const profile = profileOfDevice(moec);
  for (const name of DEMO_MODELS) {
    const file = path.relative(process.cwd(), path.join(MODELS_DIR, name)) || name;
    const result = frontEnd(file, { values: {}, positionals: [] }, io);
    if (!result.graph) return EXIT.errors;
    const cost = modelCost(result.graph);
    const t0 = performance.now();
    const { plan } = compileGraph(result.graph, { level, profile });
    const weights = initWeights(plan, seed);
    const session = await Session.create(moec.device, plan, weights);
    const t1 = performance.now();
    const input = result.graph.inputs[0]!;
    const width = result.graph.values[input.value]!.type.shape[1] as number;
    const x = { shape: [tokens, width], data: randomTensor([tokens, width], seed + 1) };
    const first = await session.run(new Map([[input.name, x]]));
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = performance.now();
      await session.run(new Map([[input.name, x]]));
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const median = times[1]!;
    const gflops = (2 * cost.macsPerToken * tokens) / (median * 1e6);
    io.out(`\n== ${file} (${result.model}) ==\n`);
    io.out(
      `${fmt(cost.params)} parameters, ${fmt(cost.macsPerToken)} multiply-adds per token; ${plan.kernels.length} kernels\n`,
    );
    for (const [n, t] of first.outputs) io.out(`${summarise(n, t)}\n`);
    for (const stats of first.routing) io.out(`${formatRouting(stats)}\n`);
    io.out(
      `time: compile + upload ${(t1 - t0).toFixed(0)} ms; run median ${median.toFixed(1)} ms of 3 (${gflops.toFixed(2)} GFLOP/s useful)\n`,
    );
    session.destroy();
  }
  return EXIT.ok;
}
