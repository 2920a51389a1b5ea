// `moec generate`: text from a language model with a KV cache on the GPU. The spec is lowered for
// decoding (one plan for the prompt and for each new token), the tokenizer read from the
// checkpoint folder, tokens streamed as they come, speeds printed at the end.
import { totalmem } from "node:os";
import { profileOfDevice } from "../compiler/codegen/profile.js";
import { compileGraph } from "../compiler/compile.js";
import { FileError, outputFileProblem } from "../compiler/node/files.js";
import { checkBudget } from "../runtime/budget.js";
import { cacheContext, generate } from "../runtime/generate.js";
import { MoecRunError } from "../runtime/errors.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import { Session } from "../runtime/session.js";
import { createTextStream } from "../runtime/text/stream.js";
import { TokenizerError } from "../runtime/text/tokenizer.js";
import { readTokenizer, readWeightsPath } from "./checkpoint.js";
import {
  type Command,
  EXIT,
  frontEnd,
  hasGraph,
  modelOptions,
  positiveInt,
  usageError,
  writeOutput,
} from "./common.js";
import { parseIds } from "./randomInputs.js";
import {
  GPU_WEIGHTS_HELP,
  gpuWeightsOf,
  gpuWeightsOption,
  isUserFacing,
  levelOption,
  limitsOf,
  nonNegativeInt,
  optLevel,
} from "./run.js";

export const generateCommand: Command = {
  summary: "generate text with a language model and a KV cache on WebGPU",
  usage:
    'moec generate SPEC --weights DIR (--prompt "..." | --ids 1,2,3) [--max-tokens N] [--temperature X] [--top-k K] [--top-p P] [--seed N] [--stats FILE] [-O0|-O2]',
  details: `Lowers SPEC for decoding: attention keeps a KV cache of (prompt + --max-tokens) positions on
the GPU, the prompt runs once, then each new token runs alone (T = 1). Text streams to standard
output as tokens are chosen; prefill and decode speeds follow on standard error.
  --weights DIR     a Hugging Face model folder (see 'moec import-hf'), or a safetensors file
  --prompt TEXT     encoded with DIR/tokenizer.json (and tokenizer_config.json when present)
  --ids 1,2,3       the prompt as token ids (no tokenizer needed; ids are printed)
  --tokenizer FILE  a tokenizer.json elsewhere
  --max-tokens N    new tokens at most (default 32); generation also stops at the EOS token
  --temperature X   0 = greedy (the default); else sampling at that temperature
  --top-k K, --top-p P   keep the K most likely tokens / the smallest set reaching mass P
  --seed N          seed of the sampler (default 0)
  --stats FILE      write, as JSON, which experts each generated token used, per layer and head
${GPU_WEIGHTS_HELP}
  -O0 | -O2         unfused baseline or the optimised pipeline (default -O2)`,
  options: {
    ...modelOptions,
    ...levelOption,
    weights: { type: "string" },
    prompt: { type: "string" },
    ids: { type: "string" },
    tokenizer: { type: "string" },
    "max-tokens": { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    stats: { type: "string" },
    ...gpuWeightsOption,
  },
  async run(args, io) {
    const [file] = args.positionals;
    const v = args.values as Record<string, string | undefined>;
    if (!file || args.positionals.length > 1) return usageError(io, "generate takes one SPEC");
    if (!v.weights) return usageError(io, "generate needs --weights DIR (a model folder)");
    if ((v.prompt === undefined) === (v.ids === undefined))
      return usageError(io, "give the prompt as --prompt TEXT or as --ids 1,2,3");
    const level = optLevel(args);
    if (level === undefined) return usageError(io, "-O takes 0 or 2");
    const gpuWeights = gpuWeightsOf(args);
    if (gpuWeights === undefined)
      return usageError(
        io,
        `--gpu-weights takes f32 or f16, got '${String(args.values["gpu-weights"])}'`,
      );
    const maxTokens = positiveInt(v["max-tokens"], 32);
    if (maxTokens === undefined)
      return usageError(io, `--max-tokens must be a positive integer, got '${v["max-tokens"]}'`);
    const number = (name: string, text: string | undefined) => {
      if (text === undefined) return undefined;
      const n = Number(text);
      if (text.trim() === "" || !Number.isFinite(n))
        throw new RangeError(`--${name} must be a number, got '${text}'`);
      return n;
    };
    let sampling;
    try {
      const seed = v.seed === undefined ? 0 : nonNegativeInt(v.seed);
      if (seed === undefined)
        throw new RangeError(`--seed must be a non-negative integer, got '${v.seed}'`);
      sampling = {
        temperature: number("temperature", v.temperature) ?? 0,
        topK: number("top-k", v["top-k"]),
        topP: number("top-p", v["top-p"]),
        seed,
      };
      sampling = Object.fromEntries(Object.entries(sampling).filter(([, x]) => x !== undefined));
    } catch (e) {
      if (e instanceof RangeError) return usageError(io, e.message);
      throw e;
    }
    if (v.stats !== undefined) {
      const problem = outputFileProblem(v.stats, "--stats file");
      if (problem) {
        io.err(`moec: ${problem}\n`);
        return EXIT.errors;
      }
    }
    try {
      const tokenizer =
        v.prompt === undefined
          ? undefined
          : readTokenizer(v.weights, v.tokenizer, "or the prompt as token ids with --ids 1,2,3");
      const prompt = tokenizer ? tokenizer.encode(v.prompt!) : parseIds(v.ids!);
      const context = prompt.length + maxTokens;
      const result = frontEnd(file, args, io, { decode: { context } });
      if (!hasGraph(file, result, io)) return EXIT.errors;
      const moec = await createNodeDevice();
      const { plan } = compileGraph(result.graph, {
        level,
        profile: profileOfDevice(moec),
        weights: gpuWeights,
      });
      if (cacheContext(plan) === undefined)
        throw new MoecRunError(
          `${file}: model ${result.model} has no attention layer to keep a KV cache; moec generate needs a language model (token ids in, logits out)`,
        );
      checkBudget(plan, { ...limitsOf(moec.device.limits), memoryBytes: totalmem() });
      const vocab = plan.inputs[0]?.idLimit;
      if (vocab !== undefined) {
        tokenizer?.checkVocabulary(vocab);
        const bad = prompt.find((id) => id < 0 || id >= vocab);
        if (bad !== undefined)
          throw new TokenizerError(
            `prompt token id ${bad} is outside the model's vocabulary of ${vocab}`,
          );
      }
      const weights = readWeightsPath(v.weights, (m) => io.err(`warning: ${m}\n`));
      const session = await Session.create(moec.device, plan, weights, {
        warn: (m) => io.err(`warning: ${m}\n`),
      });
      // The single-token steps get a plan of their own, specialised to T = 1 (GEMM tiles of one
      // row), on the same weights and KV caches.
      const decoder = await session.sibling(
        compileGraph(result.graph, {
          level,
          profile: profileOfDevice(moec),
          weights: gpuWeights,
          bindings: { T: 1 },
        }).plan,
      );
      // A first pass compiles the pipelines (seconds on a software adapter), so the speeds
      // printed below are those of a warm session. Each generation starts at position 0.
      await generate(session, prompt, { maxTokens: 2, decoder });
      const stream = tokenizer && createTextStream(tokenizer);
      if (!tokenizer) io.out(`${prompt.join(" ")} |`);
      else io.out(v.prompt!);
      const generation = await generate(session, prompt, {
        decoder,
        ...sampling,
        maxTokens,
        stopIds: tokenizer?.eosIds ?? [],
        onToken: (id) => io.out(stream ? stream.push(id) : ` ${id}`),
      });
      if (stream) io.out(stream.flush());
      io.out("\n");
      const decoded = generation.ids.length - 1;
      io.err(
        `\nadapter: ${moec.describeAdapter()}\n` +
          `prefill: ${prompt.length} tokens in ${generation.prefillMs.toFixed(1)} ms (${generation.prefillTokensPerSecond.toFixed(1)} tokens/s, after a warm-up pass)\n` +
          `decode: ${decoded} tokens in ${generation.decodeMs.toFixed(1)} ms (${generation.decodeTokensPerSecond.toFixed(1)} tokens/s); stopped: ${generation.stop.replace("_", " ")}\n`,
      );
      if (v.stats !== undefined) {
        const tokens = generation.ids.slice(0, -1).map((id, i) => ({
          id,
          ...(tokenizer && { text: tokenizer.decode([id]) }),
          experts: Object.fromEntries(generation.routing[i]!.map((r) => [r.scope, r.experts])),
        }));
        writeOutput(
          v.stats,
          JSON.stringify({ prompt, generated: generation.ids, tokens }, null, 1) + "\n",
        );
        io.err(`wrote ${v.stats}\n`);
      }
      decoder.destroy();
      session.destroy();
      return EXIT.ok;
    } catch (e) {
      if (isUserFacing(e) || e instanceof TokenizerError || e instanceof FileError) {
        io.err(`moec: ${(e as Error).message}\n`);
        return EXIT.errors;
      }
      throw e;
    }
  },
};
