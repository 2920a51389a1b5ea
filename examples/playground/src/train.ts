// The Train tab: trains the spec in the editor when it is a language model (lm_*.moe), on the
// bytes of a text in the page (vocabulary 256, as `moec train` does), with the same compiler
// (compileTraining) and the same runtime trainer (runtime/train/) as the CLI. It draws the loss
// and, per MoE layer and head, each expert's share of the step's assignments as training goes.
import { compileTraining } from "../../../compiler/autodiff/compileTraining.js";
import { compileToIR } from "../../../compiler/index.js";
import { memoryHost } from "../../../compiler/sources.js";
import { formatDiagnostic } from "../../../grammar/diagnostics.js";
import { profileOfDevice } from "../../../plan/profile.js";
import { BYTE_VOCAB, ByteCorpus, VALIDATION_SHARE } from "../../../runtime/train/data.js";
import { DEFAULT_OPTIMIZER } from "../../../runtime/train/schedule.js";
import { type SiteActivity, Trainer } from "../../../runtime/train/trainer.js";
import { type Validation, validate } from "../../../runtime/train/validate.js";
import { initWeights } from "../../../runtime/weights.js";
import { getDevice } from "./gpu.js";
import { MODEL_FILES } from "./models.js";

export interface TrainRequest {
  readonly path: string;
  readonly source: string;
  readonly overrides: readonly string[];
  /** The page's optimisation level: -O2 fuses the backward like the forward. */
  readonly level: 0 | 2;
  readonly text: string;
  readonly steps: number;
  readonly batch: number;
  readonly seq: number;
  readonly lr: number;
  readonly seed: number;
}

export interface TrainStep {
  readonly step: number;
  readonly loss: number;
  readonly ceLoss: number;
  /** Tokens per second since the end of step 1 (which also compiles every pipeline). */
  readonly tokensPerSecond?: number;
  readonly sites: readonly SiteActivity[];
}

/** Why a spec cannot be trained here, as a message for the user. */
export class NotTrainable extends Error {}

/**
 * The spec's forward graph with the byte vocabulary: `vocab` is set to 256 (replacing the
 * preset's), and a model whose logits are not over 256 classes is refused with the reason.
 */
export function byteLevelGraph(request: Pick<TrainRequest, "path" | "source" | "overrides">) {
  const host = memoryHost({ ...MODEL_FILES, [request.path]: request.source });
  const probe = compileToIR(request.path, host, { overrides: request.overrides });
  const lm = `Training here needs a language model: a spec whose model maps token ids to logits over ${BYTE_VOCAB} bytes (the lm_*.moe specs).`;
  if (!probe.graph) {
    const first = probe.diagnostics[0];
    throw new NotTrainable(
      first
        ? `The spec has errors; fix them first:\n${formatDiagnostic(first, probe.program.texts)}`
        : "The spec has errors; fix them first.",
    );
  }
  if (!probe.hyperParams.has("vocab"))
    throw new NotTrainable(
      `${probe.graph.name} has no 'vocab' parameter: it is a layer over vectors, not a language model. ${lm}`,
    );
  const overrides = [
    ...request.overrides.filter((o) => !o.startsWith("vocab=")),
    `vocab=${BYTE_VOCAB}`,
  ];
  const result = compileToIR(request.path, host, { overrides });
  if (!result.graph) throw new NotTrainable(`${probe.graph.name} does not build with vocab=256.`);
  const out = result.graph.outputs[0];
  const classes = out && result.graph.values[out.value]!.type.shape[1];
  if (classes !== BYTE_VOCAB)
    throw new NotTrainable(`${result.graph.name} has ${classes ?? "no"} output classes. ${lm}`);
  return result.graph;
}

/** Sequences of the held-out tail scored at the end, as `moec train` does. */
const VALIDATION_SEQUENCES = 8;

/**
 * Trains until `steps` or until `shouldStop()` says so, calling `onStep` after every step, then
 * scores the held-out tail. Resolves with the steps taken and that validation; errors of the
 * data or the run are thrown with their message.
 */
export async function train(
  request: TrainRequest,
  onStep: (s: TrainStep) => void | Promise<void>,
  shouldStop: () => boolean,
  onStatus: (text: string) => void = () => {},
): Promise<{ taken: number; validation?: Validation }> {
  const corpus = new ByteCorpus(new TextEncoder().encode(request.text), request.seq, "the text");
  const graph = byteLevelGraph(request);
  const moec = await getDevice();
  onStatus(
    `compiling the training step of ${graph.name} (forward, loss, backward; -O${request.level})…`,
  );
  const plan = compileTraining(graph, { profile: profileOfDevice(moec), level: request.level });
  onStatus(`uploading weights and compiling ${plan.step.shaders.length} shaders…`);
  const config = {
    ...DEFAULT_OPTIMIZER,
    lr: request.lr,
    steps: request.steps,
    warmup: Math.max(1, Math.round(request.steps / 10)),
  };
  const trainer = await Trainer.create(
    moec.device,
    plan,
    initWeights(plan.step, request.seed),
    config,
  );
  try {
    let started = performance.now();
    let taken = 0;
    for (let step = 1; step <= request.steps && !shouldStop(); step++) {
      const r = await trainer.step(corpus.batch(step, request.batch, request.seed));
      if (step === 1) started = performance.now();
      const seconds = (performance.now() - started) / 1000;
      await onStep({
        step,
        loss: r.loss,
        ceLoss: r.ceLoss,
        tokensPerSecond:
          step > 1 ? ((step - 1) * request.batch * request.seq) / seconds : undefined,
        sites: r.activeExperts,
      });
      taken = step;
    }
    if (taken === 0) return { taken };
    onStatus(`scoring the held-out ${Math.round(VALIDATION_SHARE * 100)}% of the text…`);
    const held = corpus.validationSequences(VALIDATION_SEQUENCES);
    return { taken, validation: await validate(trainer, held) };
  } finally {
    trainer.destroy();
  }
}
