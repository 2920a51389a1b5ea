// A Hugging Face model folder's weights: model.safetensors, or the shards a
// model.safetensors.index.json names. Float tensors of any width (F32, F16, BF16, F64) come back
// as f32, one tensor at a time; names stay as they are on disk. Browser-safe: the caller reads
// the files (Node: cli/checkpoint.ts; a page: the files the user picked).
import { parseSafetensors, toFloat32 } from "./safetensors.js";
import type { Tensor } from "./safetensors/format.js";
import type { WeightData } from "./weightUpload.js";

export const INDEX_FILE = "model.safetensors.index.json";
export const SINGLE_FILE = "model.safetensors";

/** A folder that is not a readable checkpoint; the message names the file and tensor. */
export class CheckpointError extends Error {}

/** How the reader reaches the folder: whether a file is there, and its bytes. */
export interface CheckpointFolder {
  /** Shown in messages (the folder's path). */
  readonly label: string;
  has(name: string): boolean;
  read(name: string): Uint8Array;
}

/** The checkpoint's tensors by name, plus warnings of the files read (unknown dtypes, ...). */
export function readCheckpoint(
  folder: CheckpointFolder,
  warn: (message: string) => void = () => {},
): Map<string, WeightData> {
  const shards = folder.has(INDEX_FILE) ? indexedShards(folder) : undefined;
  if (!shards && !folder.has(SINGLE_FILE))
    throw new CheckpointError(
      `${folder.label}: no ${SINGLE_FILE} and no ${INDEX_FILE} (the checkpoint's weights)`,
    );
  const weights = new Map<string, WeightData>();
  for (const [file, expected] of shards ?? new Map([[SINGLE_FILE, undefined]])) {
    const where = `${folder.label}/${file}`;
    if (!folder.has(file))
      throw new CheckpointError(`${where}: missing shard (named by ${INDEX_FILE})`);
    const parsed = parseSafetensors(folder.read(file), where);
    for (const w of parsed.warnings) warn(`${where}: ${w}`);
    for (const name of expected ?? []) {
      if (!parsed.tensors.has(name))
        throw new CheckpointError(
          `${where}: tensor ${name} is missing (${INDEX_FILE} puts it here)`,
        );
    }
    for (const [name, t] of parsed.tensors) {
      if (weights.has(name)) throw new CheckpointError(`${where}: tensor ${name} is in two shards`);
      if (t.dtype === "U32" || t.dtype === "U8" || t.dtype.startsWith("I") || t.dtype === "BOOL")
        continue; // integer buffers (none in these checkpoints' weights) are not weights
      weights.set(name, tensorWeight(t, name, where));
    }
  }
  return weights;
}

/**
 * A float tensor as a weight: F16 and BF16 keep their bits (converted later, for the buffer
 * they go to), other float types become f32.
 */
export function tensorWeight(t: Tensor, name: string, where: string): WeightData {
  if (t.dtype !== "F16" && t.dtype !== "BF16")
    return { shape: t.shape, data: toFloat32(t, name, where), source: where };
  const bits = new Uint16Array(t.data.byteLength / 2);
  const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  for (let i = 0; i < bits.length; i++) bits[i] = view.getUint16(2 * i, true);
  return { shape: t.shape, data: bits, half: t.dtype === "F16" ? "f16" : "bf16", source: where };
}

/** Shard file -> the tensor names the index puts in it, checked for safe file names. */
function indexedShards(folder: CheckpointFolder): Map<string, string[]> {
  const where = `${folder.label}/${INDEX_FILE}`;
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(folder.read(INDEX_FILE)));
  } catch (e) {
    throw new CheckpointError(`${where}: not valid JSON (${(e as Error).message.slice(0, 80)})`);
  }
  const map = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== "object" || map === null || Array.isArray(map))
    throw new CheckpointError(
      `${where}: expected an object "weight_map" of tensor name -> shard file`,
    );
  const shards = new Map<string, string[]>();
  for (const [name, file] of Object.entries(map)) {
    // A shard is a plain file beside the index: never a path that leaves the folder.
    if (typeof file !== "string" || !/^[\w.-]+\.safetensors$/.test(file) || file.startsWith("."))
      throw new CheckpointError(
        `${where}: tensor ${name} names shard ${JSON.stringify(file).slice(0, 80)}, not a .safetensors file in the folder`,
      );
    shards.set(file, [...(shards.get(file) ?? []), name]);
  }
  return shards;
}
