// `moec eval`: the validation perplexity of a training checkpoint on the held-out tail of a text
// file (the split `moec train` uses), and expert activation per MoE layer and head.
import { compileTraining } from "../compiler/autodiff/compileTraining.js";
import { profileOfDevice } from "../compiler/codegen/profile.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import { CheckpointError, decodeCheckpoint } from "../runtime/train/checkpoint.js";
import { Session } from "../runtime/session.js";
import { evaluateSequence } from "../runtime/train/trainer.js";
import { describeActivation, validate } from "../runtime/train/validate.js";
import { EXIT, type Command, positiveInt, usageError } from "./common.js";
import { levelOption, optLevel } from "./run.js";
import { MAX_DATA_FILE_BYTES, readRegularFile } from "../compiler/node/files.js";
import { defaultCorpusPath } from "./defaultCorpus.js";
import { isFolder, readTokenizer, readWeightsPath, tokenizerBeside } from "./checkpoint.js";
import { MAX_SEQ, VALIDATION_SEQUENCES, isInputError, trainingData } from "./train.js";

export const evaluate: Command = {
  summary:
    "validation perplexity and expert activation of a checkpoint (moec train's or a model folder)",
  usage:
    "moec eval SPEC --weights CHECKPOINT|DIR [--data PATH] [--seq S] [--batch B] [--tokenizer FILE] [-O 0|2] [--model NAME] [--set NAME=VALUE]...",
  details: `Runs the model with the checkpoint's weights on the held-out last 10% of the text (the
split moec train uses) and prints the mean cross-entropy, the perplexity, and per MoE layer the
experts that received at least one kept assignment (per head for multi-head MoE) with each
expert's share of the assignments. Give the same --set options as for training.
  --weights FILE    a checkpoint written by moec train, or DIR, a Hugging Face model folder
                    (its tokenizer.json gives the tokens unless --tokenizer does) (required)
  --data PATH       a UTF-8 text file (default: moec's own README.md, as for moec train)
  --seq S           tokens per sequence (default 64, at most ${MAX_SEQ})
  --batch B         held-out sequences to evaluate (default ${VALIDATION_SEQUENCES}; fewer if the tail is short)
  --tokenizer FILE  the text as this tokenizer.json's ids (give it when training did), not bytes
  -O 0|2            fused and tiled kernels (2, the default) or one simple kernel per op (0)`,
  options: {
    model: { type: "string" },
    set: { type: "string", multiple: true },
    weights: { type: "string" },
    data: { type: "string" },
    seq: { type: "string" },
    batch: { type: "string" },
    tokenizer: { type: "string" },
    ...levelOption,
  },
  async run(args, io) {
    const [file] = args.positionals;
    if (!file || args.positionals.length > 1) return usageError(io, "eval takes one SPEC file");
    const weights = args.values.weights as string | undefined;
    if (weights === undefined)
      return usageError(
        io,
        "eval needs --weights FILE (a checkpoint of moec train) or DIR (a Hugging Face model folder)",
      );
    const data = (args.values.data as string | undefined) ?? defaultCorpusPath();
    if (data === undefined)
      return usageError(
        io,
        "eval needs --data PATH: the default corpus (moec's README.md) is not installed",
      );
    const seq = positiveInt(args.values.seq as string | undefined, 64);
    if (seq === undefined) return usageError(io, "--seq must be a positive integer");
    if (seq > MAX_SEQ) return usageError(io, `--seq ${seq} is over the limit of ${MAX_SEQ}`);
    const count = positiveInt(args.values.batch as string | undefined, VALIDATION_SEQUENCES);
    if (count === undefined) return usageError(io, "--batch must be a positive integer");
    const level = optLevel(args);
    if (level === undefined) return usageError(io, "-O takes 0 or 2");
    try {
      // A model folder (Hugging Face) brings its tokenizer; a moec checkpoint trained on bytes none.
      const folder = isFolder(weights);
      const tokenizerFile =
        (args.values.tokenizer as string | undefined) ??
        (folder ? tokenizerBeside(weights) : undefined);
      const tokenizer =
        tokenizerFile === undefined
          ? undefined
          : readTokenizer(undefined, tokenizerFile, "or evaluate on bytes without one");
      const loaded = trainingData(file, args, io, { data, seq, tokenizer });
      if (!loaded) return EXIT.errors;
      const { corpus, result } = loaded;
      const moec = await createNodeDevice();
      const plan = compileTraining(result.graph, { profile: profileOfDevice(moec), level });
      const modelName = result.model ?? result.graph.name;
      let where = "";
      let session: Session;
      if (folder) {
        const read = readWeightsPath(weights, (m) => io.err(`warning: ${m}\n`));
        session = await Session.create(moec.device, plan.step, read);
      } else {
        const checkpoint = decodeCheckpoint(
          plan,
          readRegularFile(weights, "checkpoint file", MAX_DATA_FILE_BYTES),
          weights,
        );
        if (checkpoint.model !== modelName)
          throw new CheckpointError(
            `${weights} is a checkpoint of ${checkpoint.model}, not ${modelName}`,
          );
        where = ` at step ${checkpoint.step}`;
        session = await Session.create(moec.device, plan.step, checkpoint.weights);
      }
      const held = corpus.validationSequences(count);
      const v = await validate({ evaluate: (s) => evaluateSequence(session, s) }, held);
      session.destroy();
      io.out(
        `${modelName}${where} on ${data} (${held.length} held-out sequences of ${seq} ${corpus.unit}s; adapter: ${moec.describeAdapter()})\n`,
      );
      io.out(
        `validation: cross-entropy ${v.ce.toFixed(4)} nats/${corpus.unit}, perplexity ${v.perplexity.toFixed(3)}\n`,
      );
      for (const line of describeActivation(v.sites)) io.out(`${line}\n`);
      return EXIT.ok;
    } catch (e) {
      if (!isInputError(e)) throw e;
      io.err(`moec: ${e.message}\n`);
      return EXIT.errors;
    }
  },
};
