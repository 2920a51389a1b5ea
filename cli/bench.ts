// `moec bench`: times a model on the WebGPU adapter at hand, whole and kernel by kernel, with the
// ratios that say whether the optimiser earns its keep. A thin command: the measurements and the
// report live in bench/ (bench/report.ts), which `npm run bench` (bench/suite.ts) shares.
import type { Graph } from "../compiler/ir/graph.js";
import type { OptLevel } from "../compiler/passes/index.js";
import { type MoecDevice, NoAdapterError } from "../runtime/device.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import { MoecRunError } from "../runtime/session.js";
import { benchReport, formatReport, reportJson } from "../bench/report.js";
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

export const bench: Command = {
  summary: "time a model on the WebGPU adapter: per kernel, GFLOP/s, fused vs -O0, sparse tax",
  usage:
    "moec bench FILE [--model NAME] [--set NAME=VALUE]... [--tokens N] [-O0|-O2] [--repeat N] [--warmup N] [--compare FILE2 [--set-b NAME=VALUE]...] [--quick] [--sweep] [--json]",
  details: `Runs the model on random inputs: warm-up runs, then --repeat rounds; reports the median,
min and max time of the whole model (sum of its kernels, GPU timestamps where the adapter has
them, else kernels timed one by one; and wall time, read-back included) and of every kernel,
with useful GFLOP/s (2 x multiply-adds of the IR, costs.ts). In the same run, interleaved:
  fused vs -O0      the other level of the same model
  sparse tax        a single MoE layer against a dense FFN with its active multiply-adds
  parity            an MH-MoE against the SMoE it matches (built from its costs), or FILE
                    against --compare FILE2
With --sweep, also the largest GEMM: its GFLOP/s against the best of about 15 tilings of a
standalone dense GEMM of its shape (slow). Progress goes to stderr (one updating line on a
terminal).
  --tokens N        sequence length T (default 2048)
  -O0, -O2          the level of the model timed (default -O2)
  --repeat N        timed rounds (default 3); --warmup N untimed runs first (default 1)
  --compare FILE2   the model to compare against (parity); --set-b overrides its parameters
  --quick           the model alone: no comparison runs
  --sweep           also time GEMM tilings (see above)
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
    sweep: { type: "boolean" },
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
  const progress = progressLine(io);
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
      sweep: Boolean(args.values.sweep),
      command,
      progress,
    });
    progress.done();
    io.out(
      args.values.json ? JSON.stringify(reportJson(report), null, 2) + "\n" : formatReport(report),
    );
    return EXIT.ok;
  } catch (e) {
    progress.done();
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

/**
 * Progress on stderr: on a terminal one line rewritten in place (done() clears it), elsewhere a
 * line per step.
 */
function progressLine(io: Io): ((line: string) => void) & { done(): void } {
  const tty = Boolean(process.stderr.isTTY);
  const width = Math.max(20, (process.stderr.columns ?? 80) - 1);
  let shown = false;
  const say = (line: string) => {
    const text = `[bench] ${line}`;
    if (!tty) return io.err(`${text}\n`);
    io.err(`\r\x1b[K${text.length > width ? text.slice(0, width - 1) + "…" : text}`);
    shown = true;
  };
  return Object.assign(say, {
    done: () => {
      if (shown) io.err("\r\x1b[K");
      shown = false;
    },
  });
}
