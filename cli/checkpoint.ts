// Weights from the command line: a safetensors file, or a Hugging Face model folder
// (model.safetensors or its shards; runtime/checkpoint.ts). Files are read only if regular.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { MAX_DATA_FILE_BYTES, readRegularFile, reallyWithin } from "../compiler/node/files.js";
import { readCheckpoint, tensorWeight } from "../runtime/checkpoint.js";
import { parseSafetensors } from "../runtime/safetensors.js";
import type { WeightData } from "../runtime/session.js";

/** Whether a --weights path names a model folder rather than one safetensors file. */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The tensors of a --weights path; float tensors as f32, U32 words kept (packed ternary). */
export function readWeightsPath(path: string, warn: (m: string) => void): Map<string, WeightData> {
  if (isFolder(path)) return readCheckpoint(folderOf(path), warn);
  const parsed = parseSafetensors(readRegularFile(path, "weights file", MAX_DATA_FILE_BYTES), path);
  for (const w of parsed.warnings) warn(`${path}: ${w}`);
  return new Map(
    [...parsed.tensors].map(([name, t]) => [
      name,
      t.dtype === "U32" ? { shape: t.shape, data: u32Words(t.data) } : tensorWeight(t, name, path),
    ]),
  );
}

/** A model folder for runtime/checkpoint.ts: only files really inside it, read if regular. */
export function folderOf(dir: string) {
  const inside = (name: string) => join(dir, name);
  return {
    label: dir,
    has: (name: string) => existsSync(inside(name)) && reallyWithin(inside(name), dir),
    read: (name: string) => readRegularFile(inside(name), "checkpoint file", MAX_DATA_FILE_BYTES),
  };
}

function u32Words(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getUint32(4 * i, true));
}
