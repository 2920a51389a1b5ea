// Training checkpoints in safetensors: the weights under the names of `moec params --json` (a
// stacked expert tensor written one tensor per expert), Adam's moments under `optimizer.m.` and
// `optimizer.v.` plus those names, and the step, seed and model in the metadata. Reading one
// back checks every tensor against the training plan, so a checkpoint of another model is refused
// by name. Browser-safe.
import type { TrainingPlan } from "../../plan/training.js";
import { expertWeightNames, isStackedExpertName } from "../../plan/weightNames.js";
import { parseSafetensors, toFloat32, writeSafetensors } from "../safetensors.js";

export const CHECKPOINT_FORMAT = "moec-checkpoint/1";

export class CheckpointError extends Error {}

export interface CheckpointState {
  /** By plan weight name (stacked expert tensors whole). */
  readonly weights: ReadonlyMap<string, Float32Array>;
  readonly m: ReadonlyMap<string, Float32Array>;
  readonly v: ReadonlyMap<string, Float32Array>;
  readonly step: number;
  readonly seed: number;
  readonly model: string;
}

const PARTS = [
  ["", "weights"],
  ["optimizer.m.", "m"],
  ["optimizer.v.", "v"],
] as const;

/** Name prefixes of the optimizer's state, which a model's weights never start with. */
export const OPTIMIZER_PREFIXES: readonly string[] = PARTS.map(([p]) => p).filter((p) => p !== "");

/** The per-tensor pieces of a plan weight: [name, shape, offset] (one per expert when stacked). */
function pieces(plan: TrainingPlan, name: string): [string, number[], number][] {
  const buffer = plan.step.buffers.find((b) => b.kind === "weight" && b.name === name);
  if (!buffer || buffer.kind !== "weight") throw new CheckpointError(`no weight ${name} in plan`);
  if (!isStackedExpertName(name)) return [[name, [...buffer.shape], 0]];
  const [experts, ...rest] = buffer.shape;
  const size = rest.reduce((a, c) => a * c, 1);
  return expertWeightNames(name, experts!).map((n, e) => [n, rest, e * size]);
}

export function encodeCheckpoint(plan: TrainingPlan, state: CheckpointState): Uint8Array {
  const tensors = PARTS.flatMap(([prefix, part]) =>
    plan.params.flatMap((p) => {
      const data = state[part].get(p.name)!;
      return pieces(plan, p.name).map(([name, shape, offset]) => ({
        name: prefix + name,
        dtype: "F32" as const,
        shape,
        data: data.subarray(offset, offset + shape.reduce((a, c) => a * c, 1)),
      }));
    }),
  );
  return writeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    model: state.model,
    step: String(state.step),
    seed: String(state.seed),
  });
}

export function decodeCheckpoint(
  plan: TrainingPlan,
  bytes: Uint8Array,
  source: string,
): CheckpointState {
  const file = parseSafetensors(bytes, source);
  const meta = file.metadata;
  if (meta.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(
      `${source} is not a moec training checkpoint (format '${meta.format ?? "none"}', expected ${CHECKPOINT_FORMAT})`,
    );
  const step = Number(meta.step);
  const seed = Number(meta.seed);
  if (!Number.isSafeInteger(step) || step < 1 || !Number.isSafeInteger(seed))
    throw new CheckpointError(`${source}: bad step '${meta.step}' or seed '${meta.seed}'`);
  const parts = { weights: new Map(), m: new Map(), v: new Map() } as Record<
    (typeof PARTS)[number][1],
    Map<string, Float32Array>
  >;
  for (const [prefix, part] of PARTS) {
    for (const p of plan.params) {
      const out = new Float32Array(p.elements);
      for (const [name, shape, offset] of pieces(plan, p.name)) {
        const t = file.tensors.get(prefix + name);
        if (!t)
          throw new CheckpointError(
            `${source} lacks ${prefix + name}: a checkpoint of another model or configuration?`,
          );
        if (t.shape.join() !== shape.join())
          throw new CheckpointError(
            `${source}: ${prefix + name} is [${t.shape.join(", ")}], the model needs [${shape.join(", ")}] (a checkpoint of another model or configuration?)`,
          );
        out.set(toFloat32(t, prefix + name, source), offset);
      }
      parts[part].set(p.name, out);
    }
  }
  return { ...parts, step, seed, model: meta.model ?? "" };
}
