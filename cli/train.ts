// `moec train`: trains a language model spec on the bytes of a text file (vocabulary 256) on the
// local WebGPU device, printing progress and the held-out perplexity, and writing a safetensors
// checkpoint (weights under the names of `moec params --json`) and a JSON log.
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { GradError } from "../compiler/autodiff/grad.js";
import { compileToIR } from "../compiler/index.js";
import { formatType } from "../compiler/ir/types.js";
import { compileTraining } from "../compiler/autodiff/compileTraining.js";
import { profileOfDevice } from "../compiler/codegen/profile.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import {
  CHECKPOINT_FORMAT,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
} from "../runtime/train/checkpoint.js";
import {
  BYTE_VOCAB,
  ByteCorpus,
  DataError,
  TokenCorpus,
  checkedText,
} from "../runtime/train/data.js";
import { type TextTokenizer, TokenizerError } from "../runtime/text/tokenizer.js";
import { readTokenizer, readWeightsPath, tokenizerBeside } from "./checkpoint.js";
import { DEFAULT_OPTIMIZER, type OptimizerConfig } from "../runtime/train/schedule.js";
import { type SiteActivity, Trainer } from "../runtime/train/trainer.js";
import { type Validation, validate } from "../runtime/train/validate.js";
import { type CurveData, curvesSvg } from "../runtime/train/curves.js";
import { initWeights } from "../runtime/weights.js";
import {
  EXIT,
  type Command,
  type Io,
  type Parsed,
  frontEnd,
  hasGraph,
  positiveInt,
  usageError,
  writeOutput,
} from "./common.js";
import { nodeHost } from "../compiler/node/host.js";
import { defaultCorpusPath } from "./defaultCorpus.js";
import { isUserFacing, levelOption, optLevel } from "./run.js";
import { MAX_DATA_FILE_BYTES, outputDirProblem, readRegularFile } from "../compiler/node/files.js";

/** Rotary angles are exact in the kernels for positions below 4096 (codegen/kernels/attention.ts). */
export const MAX_SEQ = 4096;
export const VALIDATION_SEQUENCES = 8;

export const train: Command = {
  summary: "train a language model on a text file: its bytes, or its tokens (WebGPU)",
  usage:
    "moec train SPEC [--data PATH] [--steps N] [--batch B] [--seq S] [--lr X] [--seed N] [--out DIR] [--resume FILE] [--init WEIGHTS] [--tokenizer FILE] [--bias-update X] [--eval-every N] [-O 0|2] [--model NAME] [--set NAME=VALUE]...",
  details: `Byte-level tokens (vocabulary 256; the model's 'vocab' is set to 256 unless --set gives it),
or a tokenizer's (--tokenizer, or the tokenizer.json beside --init; the spec's vocabulary stays).
The last 10% of the text is held out for validation. AdamW (betas 0.9, 0.95, weight decay 0.1),
linear warm-up over the first 10% of the steps, cosine decay to 10% of --lr, gradients clipped
to a global norm of 1; the loss is the cross-entropy plus 0.01 x each router's balance term.
  --data PATH       a UTF-8 text file (default: moec's own README.md, about 40 kB)
  --steps N         optimiser steps (default 100)
  --batch B         sequences per step (default 4)
  --seq S           tokens per sequence (default 64, at most ${MAX_SEQ})
  --lr X            peak learning rate (default 0.003)
  --seed N          initial weights and batch order (default 0)
  --out DIR         write DIR/checkpoint.safetensors (weights, Adam's moments, step, seed) and
                    DIR/log.json and DIR/curves.svg (loss and expert activation over steps)
  --resume FILE     continue from a checkpoint up to --steps; batches depend on (seed, step),
                    so the result equals an uninterrupted run's
  --stop-at N       stop after step N of the --steps schedule (to resume later)
  --init WEIGHTS    start from these weights instead of random ones (fine-tuning): a Hugging Face
                    model folder (e.g. one whose config.json moec import-hf made SPEC from) or a
                    safetensors file, such as a moec train checkpoint
  --tokenizer FILE  train on this tokenizer.json's ids of the text instead of its bytes
  --bias-update X   γ of DeepSeek-V3's balancing: a router's selection bias (if it has one) moves
                    by γ per step against each expert's load (default 0.001; 0: fixed)
  --eval-every N    validation perplexity every N steps and at the end (default 50)
  -O 0|2            kernels of the step graph: fused and tiled (2, the default) or one simple
                    kernel per op (0); the two agree to float rounding
The progress line's "experts a/E" counts, per MoE layer, the experts that received at least one
kept (sub-)token assignment over the step's batch.`,
  options: {
    model: { type: "string" },
    set: { type: "string", multiple: true },
    data: { type: "string" },
    steps: { type: "string" },
    batch: { type: "string" },
    seq: { type: "string" },
    lr: { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
    resume: { type: "string" },
    "stop-at": { type: "string" },
    "eval-every": { type: "string" },
    init: { type: "string" },
    tokenizer: { type: "string" },
    "bias-update": { type: "string" },
    ...levelOption,
  },
  async run(args, io) {
    const [file] = args.positionals;
    if (!file || args.positionals.length > 1) return usageError(io, "train takes one SPEC file");
    const data = (args.values.data as string | undefined) ?? defaultCorpusPath();
    if (data === undefined)
      return usageError(
        io,
        "train needs --data PATH: the default corpus (moec's README.md) is not installed",
      );
    const int = (name: string, fallback: number) =>
      positiveInt(args.values[name] as string | undefined, fallback);
    const steps = int("steps", 100);
    if (steps === undefined) return usageError(io, "--steps must be a positive integer");
    const batch = int("batch", 4);
    if (batch === undefined) return usageError(io, "--batch must be a positive integer");
    const seq = int("seq", 64);
    if (seq === undefined) return usageError(io, "--seq must be a positive integer");
    const seedText = args.values.seed as string | undefined;
    const seed = seedText === undefined ? 0 : /^\d+$/.test(seedText) ? Number(seedText) : NaN;
    if (!Number.isSafeInteger(seed)) return usageError(io, "--seed must be a whole number");
    const lrText = (args.values.lr as string | undefined) ?? "0.003";
    const lr = /^[0-9.eE+-]+$/.test(lrText) ? Number(lrText) : NaN;
    if (!(Number.isFinite(lr) && lr > 0))
      return usageError(io, `--lr must be a positive number, got '${lrText}'`);
    const gammaText = (args.values["bias-update"] as string | undefined) ?? "0.001";
    const biasUpdate = /^[0-9.eE+-]+$/.test(gammaText) ? Number(gammaText) : NaN;
    if (!(Number.isFinite(biasUpdate) && biasUpdate >= 0))
      return usageError(io, `--bias-update must be a non-negative number, got '${gammaText}'`);
    const stopAt = int("stop-at", steps);
    if (stopAt === undefined || stopAt > steps)
      return usageError(io, "--stop-at must be a positive integer no larger than --steps");
    const evalEvery = int("eval-every", 50);
    if (evalEvery === undefined) return usageError(io, "--eval-every must be a positive integer");
    if (seq > MAX_SEQ) return usageError(io, `--seq ${seq} is over the limit of ${MAX_SEQ}`);
    const level = optLevel(args);
    if (level === undefined) return usageError(io, "-O takes 0 or 2");
    const out = args.values.out as string | undefined;
    const resume = args.values.resume as string | undefined;
    if (resume !== undefined && seedText !== undefined)
      return usageError(io, "--resume continues with the checkpoint's seed; drop --seed");
    const init = args.values.init as string | undefined;
    if (init !== undefined && resume !== undefined)
      return usageError(
        io,
        "--init starts a run from given weights, --resume continues one: give one",
      );
    const outProblem = out === undefined ? undefined : outputDirProblem(out, "output folder");
    if (outProblem) {
      io.err(`moec: ${outProblem}\n`);
      return EXIT.errors;
    }

    try {
      const tokenizerFile = (args.values.tokenizer as string | undefined) ?? tokenizerBeside(init);
      const tokenizer =
        tokenizerFile === undefined
          ? undefined
          : readTokenizer(init, tokenizerFile, "or train on the text's bytes without one");
      const loaded = trainingData(file, args, io, { data, seq, tokenizer });
      if (!loaded) return EXIT.errors;
      const { corpus, result } = loaded;
      const moec = await createNodeDevice();
      const plan = compileTraining(result.graph, { profile: profileOfDevice(moec), level });
      const config: OptimizerConfig = {
        ...DEFAULT_OPTIMIZER,
        lr,
        steps,
        warmup: Math.max(1, Math.round(steps / 10)),
        biasUpdate,
      };
      const modelName = result.model ?? result.graph.name;
      const resumed =
        resume === undefined
          ? undefined
          : decodeCheckpoint(
              plan,
              readRegularFile(resume, "checkpoint file", MAX_DATA_FILE_BYTES),
              resume,
            );
      if (resumed && resumed.model !== modelName)
        throw new CheckpointError(
          `${resume} is a checkpoint of ${resumed.model}, not ${modelName}`,
        );
      if (resumed && resumed.step >= stopAt)
        throw new CheckpointError(
          `${resume} is at step ${resumed.step}; nothing is left to do up to step ${stopAt}`,
        );
      const runSeed = resumed?.seed ?? seed;
      const initial =
        resumed?.weights ??
        (init === undefined
          ? initWeights(plan.step, runSeed)
          : readWeightsPath(init, (m) => io.err(`warning: ${m}\n`)));
      const trainer = await Trainer.create(moec.device, plan, initial, config);
      if (resumed) trainer.restore(resumed.step, resumed.m, resumed.v);
      const first = trainer.stepsTaken + 1;
      io.out(
        `${resumed ? `resuming ${modelName} at step ${first}` : `training ${modelName}`} on ${data}: ${corpus.train.length} training ${corpus.unit}s, ${corpus.validation.length} held out${init === undefined ? "" : `, from the weights of ${init}`}; adapter: ${moec.describeAdapter()}\n`,
      );
      const log: {
        step: number;
        loss: number;
        ce_loss: number;
        lr: number;
        active_experts: Record<string, number>;
      }[] = [];
      const held = corpus.validationSequences(VALIDATION_SEQUENCES);
      const validations: (Validation & { step: number })[] = [];
      const curve: CurveData["steps"][number][] = [];
      // Throughput and ETA count from the end of step 1, which also compiles every pipeline.
      let started = performance.now();
      const every = Math.max(1, Math.round(steps / 20));
      for (let step = first; step <= stopAt; step++) {
        const r = await trainer.step(corpus.batch(step, batch, runSeed));
        const experts = Object.fromEntries(r.activeExperts.map((a) => [a.scope, a.active]));
        log.push({ step, loss: r.loss, ce_loss: r.ceLoss, lr: r.lr, active_experts: experts });
        const activation = r.activeExperts.map((a) => [a.scope, a.active / a.experts]);
        curve.push({ step, ce: r.ceLoss, activation: Object.fromEntries(activation) });
        if (step === first) started = performance.now();
        if (step % every === 0 || step === stopAt || step === first) {
          const seconds = (performance.now() - started) / 1000;
          const timed = step - first;
          const speed = timed === 0 ? "" : `  ${Math.round((timed * batch * seq) / seconds)} tok/s`;
          const eta =
            timed === 0 ? "" : `  ETA ${formatSeconds((seconds / timed) * (stopAt - step))}`;
          io.out(
            `step ${String(step).padStart(String(steps).length)}/${steps}  loss ${r.loss.toFixed(4)}  ce ${r.ceLoss.toFixed(4)}  lr ${r.lr.toExponential(2)}  experts ${active(r.activeExperts)}${speed}${eta}\n`,
          );
        }
        if (step % evalEvery === 0 || step === stopAt) {
          validations.push({ step, ...(await validate(trainer, held)) });
          if (step !== stopAt)
            io.out(
              `step ${step}: validation perplexity ${validations.at(-1)!.perplexity.toFixed(3)}\n`,
            );
        }
      }
      const ce = validations.at(-1)!.ce;
      io.out(
        `validation: cross-entropy ${ce.toFixed(4)} nats/${corpus.unit}, perplexity ${Math.exp(ce).toFixed(3)} (${held.length} sequences of ${seq} ${corpus.unit}s)\n`,
      );
      if (out !== undefined) {
        const weights = await trainer.weights();
        const { m, v } = await trainer.moments();
        const state = { weights, m, v, step: stopAt, seed: runSeed, model: modelName };
        mkdirSync(out, { recursive: true });
        writeOutput(path.join(out, "checkpoint.safetensors"), encodeCheckpoint(plan, state));
        const meta = { format: CHECKPOINT_FORMAT, model: modelName, step: stopAt, seed: runSeed };
        writeOutput(
          path.join(out, "log.json"),
          JSON.stringify(
            { ...meta, validation_ce: ce, validation: validations.map(logged), steps: log },
            null,
            1,
          ) + "\n",
        );
        const title = `${modelName}: ${path.basename(data)}, batch ${batch} x ${seq} ${corpus.unit}s, lr ${lr}, seed ${runSeed}`;
        const held = validations.map((v) => ({ step: v.step, ce: v.ce }));
        writeOutput(
          path.join(out, "curves.svg"),
          curvesSvg({ title, steps: curve, validation: held }),
        );
        const files = ["checkpoint.safetensors", "log.json", "curves.svg"];
        io.out(`wrote ${files.map((f) => path.join(out, f)).join(", ")}\n`);
      }
      trainer.destroy();
      return EXIT.ok;
    } catch (e) {
      if (!isInputError(e)) throw e;
      io.err(`moec: ${e.message}\n`);
      return EXIT.errors;
    }
  },
};

/** A validation as log.json records it. */
function logged(v: Validation & { step: number }) {
  return {
    step: v.step,
    ce: v.ce,
    perplexity: v.perplexity,
    active_experts: Object.fromEntries(v.sites.map((s) => [s.scope, s.active])),
    active_experts_per_head: Object.fromEntries(v.sites.map((s) => [s.scope, s.activePerHead])),
  };
}

/**
 * Errors that name a problem of the user's input or machine (printed without a stack): those of
 * moec run and generate, plus training's own (data, checkpoints, gradients, tokenizers).
 */
export function isInputError(e: unknown): e is Error {
  return (
    isUserFacing(e) ||
    e instanceof DataError ||
    e instanceof CheckpointError ||
    e instanceof GradError ||
    e instanceof TokenizerError
  );
}

/**
 * The spec's graph as a language model for training: token ids i32[T] in, logits out. For bytes
 * (no tokenizer) the vocabulary is set to 256 when the model has a `vocab` parameter the user did
 * not set, and a model without 256 output classes is refused; with a tokenizer the spec's own
 * vocabulary stays. Undefined once errors are printed.
 */
export function languageModel(file: string, args: Parsed, io: Io, bytes = true) {
  const sets = (args.values.set as string[] | undefined) ?? [];
  const model = args.values.model as string | undefined;
  // Only bytes override the vocabulary, and only of a model with a `vocab` parameter: ask it
  // (a second front-end pass) only then.
  const keep =
    !bytes ||
    sets.some((s) => s.startsWith("vocab=")) ||
    !compileToIR(file, nodeHost, { model, overrides: sets }).hyperParams.has("vocab");
  const withVocab = {
    ...args,
    values: { ...args.values, set: keep ? sets : [...sets, `vocab=${BYTE_VOCAB}`] },
  };
  const result = frontEnd(file, withVocab, io);
  if (!hasGraph(file, result, io)) return undefined;
  const { graph } = result;
  const what = bytes
    ? `byte-level training needs logits over ${BYTE_VOCAB} bytes`
    : "training needs logits";
  const ids = graph.inputs.length === 1 ? graph.values[graph.inputs[0]!.value]!.type : undefined;
  if (ids?.dtype !== "i32") {
    const takes = graph.inputs
      .map((i) => `${i.name}: ${formatType(graph.values[i.value]!.type)}`)
      .join(", ");
    throw new GradError(
      `${what} from token ids i32[T]; ${graph.name} takes (${takes}): a layer, not a language model. ` +
        "Train a language model such as models/lm_smoe.moe (--set quant=b1.58: BitNet MoE blocks; --set xmoe=16: X-MoE routers)",
    );
  }
  const logits =
    result.graph.outputs[0] && result.graph.values[result.graph.outputs[0].value]!.type;
  const vocab = logits?.shape[1];
  if (bytes ? vocab !== BYTE_VOCAB : typeof vocab !== "number")
    throw new GradError(`${what}; ${result.graph.name} has ${vocab ?? "no"} output classes`);
  return { ...result, vocab: vocab as number };
}

/**
 * The text as a corpus (its bytes, or its tokenizer's ids) and the spec as a language model over
 * that vocabulary; undefined once errors are printed. The text is checked before the spec.
 */
export function trainingData(
  file: string,
  args: Parsed,
  io: Io,
  { data, seq, tokenizer }: { data: string; seq: number; tokenizer?: TextTokenizer },
): { corpus: TokenCorpus; result: NonNullable<ReturnType<typeof languageModel>> } | undefined {
  const text = readRegularFile(data, "data file", MAX_DATA_FILE_BYTES);
  if (!tokenizer) {
    const corpus = new ByteCorpus(text, seq, data);
    const result = languageModel(file, args, io);
    return result && { corpus, result };
  }
  const decoded = new TextDecoder().decode(checkedText(text, data));
  const result = languageModel(file, args, io, false);
  if (!result) return undefined;
  tokenizer.checkVocabulary(result.vocab);
  const ids = Int32Array.from(tokenizer.encode(decoded));
  return { corpus: new TokenCorpus(ids, seq, data, "token"), result };
}

/** Active experts of each MoE layer over the step's batch, e.g. `4/4 3/4`. */
function active(sites: readonly SiteActivity[]): string {
  return sites.map((s) => `${s.active}/${s.experts}`).join(" ") || "-";
}

function formatSeconds(s: number): string {
  return s < 60
    ? `${s.toFixed(0)}s`
    : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}
