// The commands that compile or run one model: compile (plan and WGSL to a folder) and run.
import { mkdirSync } from "node:fs";
import { totalmem } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { profileOfDevice } from "../compiler/codegen/profile.js";
import { compileGraph } from "../compiler/compile.js";
import { type Graph, weightDecls } from "../compiler/ir/graph.js";
import type { OptLevel } from "../compiler/passes/index.js";
import { PlanError, printPlan } from "../compiler/plan.js";
import { NoAdapterError } from "../runtime/device.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import {
  type Tensor,
  WeightsError,
  parseSafetensors,
  toFloat32,
  writeSafetensors,
} from "../runtime/safetensors.js";
import { MoecRunError, Session, type TensorData } from "../runtime/session.js";
import { initWeights } from "../runtime/weights.js";
import { CheckpointError } from "../runtime/checkpoint.js";
import { readWeightsPath } from "./checkpoint.js";
import {
  EXIT,
  type Command,
  type Io,
  frontEnd,
  positiveInt,
  usageError,
  writeOutput,
} from "./common.js";
import {
  FileError,
  MAX_DATA_FILE_BYTES,
  outputDirProblem,
  outputFileProblem,
  readRegularFile,
} from "../compiler/node/files.js";
import { checkBudget } from "../runtime/budget.js";
import { nonFiniteOutputWarnings } from "../runtime/finite.js";
import { bindInputs } from "../runtime/inputs.js";
import { InputsError, parseIds, randomInputs } from "./randomInputs.js";
import { formatRouting, statsJson, summarise } from "./report.js";

/** The limits the budget reads, copied: GPUSupportedLimits keeps them in getters, which `...` drops. */
export function limitsOf(l: GPUSupportedLimits) {
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
  };
}

export const levelOption = { O: { type: "string", short: "O" } } as const;

/** `--gpu-weights f32|f16`: how the weights are stored on the GPU (CompileOptions.weights). */
export const gpuWeightsOption = { "gpu-weights": { type: "string" } } as const;

export const GPU_WEIGHTS_HELP = `  --gpu-weights f16 keep the weights as f16 on the GPU (half the memory; needs the adapter's
                    shader-f16; arithmetic stays f32); default f32`;

export function gpuWeightsOf(args: { values: Record<string, unknown> }): "f32" | "f16" | undefined {
  const given = (args.values["gpu-weights"] as string | undefined) ?? "f32";
  return given === "f32" || given === "f16" ? given : undefined;
}

export function optLevel(args: { values: Record<string, unknown> }): OptLevel | undefined {
  const o = (args.values.O as string | undefined) ?? "2";
  return o === "0" ? 0 : o === "2" ? 2 : undefined;
}

const modelOptions = {
  model: { type: "string" },
  set: { type: "string", multiple: true },
} as const;

export const compile: Command = {
  summary: "write the WGSL kernels and the execution plan of a model",
  usage: "moec compile FILE -o DIR [-O0|-O2] [--model NAME] [--set NAME=VALUE]...",
  details: `Writes DIR/plan.json (the serialisable plan a page or 'moec run' can load), DIR/plan.txt
(the same, readable) and DIR/kernels/NN_NAME.wgsl, one file per distinct shader.
  -o, --out DIR     output folder (created)
  -O0               one straightforward kernel per IR op (the baseline)
  -O2               the optimised, fused pipeline (default)`,
  options: { ...modelOptions, ...levelOption, out: { type: "string", short: "o" } },
  run(args, io) {
    const [file] = args.positionals;
    const out = args.values.out as string | undefined;
    const level = optLevel(args);
    if (!file || args.positionals.length > 1 || !out)
      return usageError(io, "compile takes one FILE and -o DIR");
    if (level === undefined) return usageError(io, "-O takes 0 or 2");
    const outProblem = outputDirProblem(out, "output folder");
    if (outProblem) return fileProblem(io, outProblem);
    const result = frontEnd(file, args, io);
    if (!result.graph) return EXIT.errors;
    let plan;
    try {
      plan = compileGraph(result.graph, { level }).plan;
    } catch (e) {
      if (!isUserFacing(e)) throw e;
      io.err(`moec: ${e.message}\n`);
      return EXIT.errors;
    }
    const files = new Map<string, string>([
      [path.join(out, "plan.json"), JSON.stringify(plan, null, 1) + "\n"],
      [path.join(out, "plan.txt"), printPlan(plan)],
    ]);
    plan.shaders.forEach((shader, i) => {
      const user = plan.kernels.find((k) => k.shader === i)!;
      files.set(path.join(out, "kernels", `${user.name}.wgsl`), shader.wgsl);
    });
    try {
      mkdirSync(path.join(out, "kernels"), { recursive: true });
      for (const [name, text] of files) writeOutput(name, text);
    } catch (e) {
      if (e instanceof FileError) return fileProblem(io, e.message);
      throw e;
    }
    io.out(
      `wrote ${path.join(out, "plan.json")}, ${path.join(out, "plan.txt")} and ${plan.shaders.length} kernels in ${path.join(out, "kernels")}/ (${plan.kernels.length} dispatches, -O${level})\n`,
    );
    return EXIT.ok;
  },
};

export const run: Command = {
  summary: "run a model on WebGPU with random, given or safetensors inputs",
  usage:
    "moec run FILE (--tokens N | --ids 1,2,3 | --input X.safetensors) [--weights W.safetensors|DIR | --seed N] [--output Y.safetensors] [--stats S.json] [-O0|-O2] [--model NAME] [--set NAME=VALUE]...",
  details: `Inputs and outputs are named by the model's forward inputs and outputs (e.g. x, y, ids, logits).
  --tokens N        random inputs of the model's declared shapes for N tokens (T = N): floats
                    uniform in (-1, 1), token ids uniform over the vocabulary; seeded by --seed
  --ids 1,2,3       a language model's token ids (T = their count), each below the vocabulary
  --input FILE      safetensors with one tensor per model input (F32/F16/BF16 for float inputs,
                    I32/I64 for token ids)
  --weights FILE    safetensors with every weight by its dotted name (see 'moec params --json');
                    F32, F16 or BF16; extra tensors are reported as warnings. A folder: a
                    Hugging Face checkpoint (model.safetensors, or the shards its
                    model.safetensors.index.json names), e.g. with a spec from 'moec import-hf'
  --seed N          seed of the random weights (unless --weights) and of --tokens inputs
                    (default 0)
  --output FILE     write the outputs as F32/I32 safetensors
  --stats FILE      write the routing statistics as JSON (layout in the README)
${GPU_WEIGHTS_HELP}
  -O0 | -O2         unfused baseline or the optimised pipeline (default -O2)`,
  options: {
    ...modelOptions,
    ...levelOption,
    input: { type: "string" },
    tokens: { type: "string" },
    ids: { type: "string" },
    weights: { type: "string" },
    seed: { type: "string" },
    output: { type: "string" },
    stats: { type: "string" },
    ...gpuWeightsOption,
  },
  async run(args, io) {
    const [file] = args.positionals;
    const level = optLevel(args);
    const gpuWeights = gpuWeightsOf(args);
    if (gpuWeights === undefined)
      return usageError(
        io,
        `--gpu-weights takes f32 or f16, got '${String(args.values["gpu-weights"])}'`,
      );
    const inputFile = args.values.input as string | undefined;
    const weightsFile = args.values.weights as string | undefined;
    const seedText = args.values.seed as string | undefined;
    if (!file || args.positionals.length > 1) return usageError(io, "run takes one FILE");
    const tokensText = args.values.tokens as string | undefined;
    const idsText = args.values.ids as string | undefined;
    const inputKinds = [inputFile, tokensText, idsText].filter((v) => v !== undefined).length;
    if (inputKinds !== 1)
      return usageError(
        io,
        inputKinds === 0
          ? "run needs inputs: --tokens N (random), --ids 1,2,3 (token ids) or --input X.safetensors"
          : "give one of --tokens, --ids and --input",
      );
    const tokenCount = positiveInt(tokensText, 1);
    if (tokenCount === undefined)
      return usageError(io, `--tokens must be a positive integer, got '${tokensText}'`);
    let ids: number[] | undefined;
    try {
      ids = idsText === undefined ? undefined : parseIds(idsText);
    } catch (e) {
      if (e instanceof InputsError) return usageError(io, e.message);
      throw e;
    }
    // With --input the seed only seeds weights, so it and --weights exclude each other.
    if (weightsFile && seedText !== undefined && inputFile)
      return usageError(io, "give --weights or --seed, not both");
    if (level === undefined) return usageError(io, "-O takes 0 or 2");
    const seed = seedText === undefined ? 0 : nonNegativeInt(seedText);
    if (seed === undefined)
      return usageError(io, `--seed must be a non-negative integer, got '${seedText}'`);
    const outputFile = args.values.output as string | undefined;
    const statsFile = args.values.stats as string | undefined;
    if (outputFile !== undefined && outputFile === statsFile)
      return usageError(io, "--output and --stats name the same file");
    // Checked before any work, so a run never ends in a write error (or writes one file of two).
    for (const [f, what] of [
      [outputFile, "--output file"],
      [statsFile, "--stats file"],
    ] as const) {
      const problem = f === undefined ? undefined : outputFileProblem(f, what);
      if (problem) return fileProblem(io, problem);
    }

    const result = frontEnd(file, args, io);
    if (!result.graph) return EXIT.errors;
    const graph = result.graph;
    try {
      const inputs = inputFile
        ? readInputs(graph, inputFile)
        : randomInputs(graph, ids?.length ?? tokenCount, seed, ids);
      const moec = await createNodeDevice();
      const { plan } = compileGraph(graph, {
        level,
        profile: profileOfDevice(moec),
        weights: gpuWeights,
      });
      // Limits and memory from the plan, before any weight is generated or read.
      const limits = moec.device.limits;
      checkBudget(plan, { ...limitsOf(limits), memoryBytes: totalmem() }, bindInputs(plan, inputs));
      const weights = weightsFile
        ? readWeightsPath(weightsFile, (m) => io.err(`warning: ${m}\n`))
        : initWeights(weightDecls(graph), seed);
      const session = await Session.create(moec.device, plan, weights, {
        warn: (m) => io.err(`warning: ${m}\n`),
      });
      const started = performance.now();
      const out = await session.run(inputs);
      const elapsed = performance.now() - started;
      io.out(`adapter: ${moec.describeAdapter()}\n`);
      for (const [name, t] of out.outputs) io.out(`${summarise(name, t)}\n`);
      for (const w of nonFiniteOutputWarnings(out.outputs)) io.err(`warning: ${w}\n`);
      for (const stats of out.routing) io.out(`\n${formatRouting(stats)}\n`);
      io.out(
        `\nrun: ${elapsed.toFixed(1)} ms (-O${level}, first run, including pipeline warm-up)\n`,
      );
      const tokens = inputs.values().next().value?.shape[0] ?? 0;
      const written: [string | undefined, () => Uint8Array | string][] = [
        [outputFile, () => outputBytes(out.outputs)],
        [
          statsFile,
          () =>
            JSON.stringify(
              statsJson(result.model ?? graph.name, moec, tokens, out.routing),
              null,
              2,
            ) + "\n",
        ],
      ];
      session.destroy();
      for (const [f, content] of written) {
        if (f === undefined) continue;
        writeOutput(f, content());
        io.out(`wrote ${f}\n`);
      }
      return EXIT.ok;
    } catch (e) {
      if (isUserFacing(e)) {
        io.err(`moec: ${e.message}\n`);
        return EXIT.errors;
      }
      throw e;
    }
  },
};

class InputError extends Error {}

/** Errors that describe the user's input or machine (not our bugs): printed without a trace. */
export function isUserFacing(e: unknown): e is Error {
  return (
    e instanceof WeightsError ||
    e instanceof FileError ||
    e instanceof MoecRunError ||
    e instanceof InputError ||
    e instanceof InputsError ||
    e instanceof PlanError ||
    e instanceof NoAdapterError ||
    e instanceof CheckpointError
  );
}

function readFile(file: string, what: string): Uint8Array {
  return readRegularFile(file, `${what} file`, MAX_DATA_FILE_BYTES);
}

function fileProblem(io: Io, problem: string): number {
  io.err(`moec: ${problem}\n`);
  return EXIT.errors;
}

/** A decimal integer >= 0 that is exact in a double; "" and "1e3" are not. */
export function nonNegativeInt(text: string): number | undefined {
  return /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
}

/** Model inputs by name from a safetensors file, converted to the declared dtype. */
function readInputs(graph: Graph, file: string): Map<string, TensorData> {
  const parsed = parseSafetensors(readFile(file, "input"), file);
  const inputs = new Map<string, TensorData>();
  for (const input of graph.inputs) {
    const t = parsed.tensors.get(input.name);
    const want = graph.values[input.value]!.type.dtype;
    if (!t)
      throw new InputError(
        `${file}: no tensor named '${input.name}' (the model's inputs: ${graph.inputs.map((i) => i.name).join(", ")})`,
      );
    inputs.set(input.name, {
      shape: t.shape,
      data: want === "i32" ? toInt32(t, input.name, file) : toFloat32(t, input.name, file),
    });
  }
  for (const name of parsed.tensors.keys()) {
    if (!graph.inputs.some((i) => i.name === name))
      throw new InputError(`${file}: '${name}' is not an input of the model`);
  }
  return inputs;
}

function toInt32(t: Tensor, name: string, file: string): Int32Array {
  if (t.dtype !== "I32" && t.dtype !== "I64")
    throw new InputError(`${file}: '${name}' must be I32 or I64 token ids, got ${t.dtype}`);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const size = t.dtype === "I64" ? 8 : 4;
  const out = new Int32Array(t.data.byteLength / size);
  for (let i = 0; i < out.length; i++) {
    // I64 is read as a BigInt, so a value such as 2^63 - 1 is reported exactly.
    const v = size === 8 ? view.getBigInt64(i * 8, true) : view.getInt32(i * 4, true);
    if (v < -(2 ** 31) || v >= 2 ** 31)
      throw new InputError(
        `${file}: '${name}' holds ${v} at index ${i}, outside the i32 range of token ids`,
      );
    out[i] = Number(v);
  }
  return out;
}

function outputBytes(outputs: ReadonlyMap<string, TensorData>): Uint8Array {
  const tensors = [...outputs].map(([name, t]) => ({
    name,
    dtype: (t.data instanceof Int32Array ? "I32" : "F32") as "I32" | "F32",
    shape: [...t.shape],
    data: t.data,
  }));
  return writeSafetensors(tensors);
}
