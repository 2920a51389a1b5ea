// Weights from the command line: a safetensors file (a moec train checkpoint's optimizer state
// is left out), or a Hugging Face model folder (model.safetensors or its shards;
// runtime/checkpoint.ts); and the tokenizer beside them. Files are read only if regular.
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { MAX_DATA_FILE_BYTES, readRegularFile, reallyWithin } from "../compiler/node/files.js";
import { readCheckpoint, tensorWeight } from "../runtime/checkpoint.js";
import { parseSafetensors } from "../runtime/safetensors.js";
import type { WeightData } from "../runtime/session.js";
import { loadTokenizer, type TextTokenizer, TokenizerError } from "../runtime/text/tokenizer.js";
import { CHECKPOINT_FORMAT, OPTIMIZER_PREFIXES } from "../runtime/train/checkpoint.js";

const MAX_TOKENIZER_BYTES = 64 << 20;

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
  const training = parsed.metadata.format === CHECKPOINT_FORMAT;
  const tensors = [...parsed.tensors].filter(
    ([name]) => !(training && OPTIMIZER_PREFIXES.some((p) => name.startsWith(p))),
  );
  return new Map(
    tensors.map(([name, t]) => [
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

/**
 * tokenizer.json (with tokenizer_config.json when it is there): the one given, or the one beside
 * the weights (in the model folder, or in the folder of a single safetensors file).
 */
export function readTokenizer(
  weights: string | undefined,
  given: string | undefined,
  otherwise: string,
): TextTokenizer {
  const folder = weights === undefined ? "." : isFolder(weights) ? weights : dirname(weights);
  const file = given ?? join(folder, "tokenizer.json");
  const read = (f: string) =>
    new TextDecoder().decode(readRegularFile(f, "tokenizer file", MAX_TOKENIZER_BYTES));
  if (!existsSync(file))
    throw new TokenizerError(
      given === undefined
        ? `no tokenizer at ${file}: give --tokenizer FILE, ${otherwise}`
        : `--tokenizer ${file}: no such file`,
    );
  const configFile = join(dirname(file), "tokenizer_config.json");
  let config = {};
  if (existsSync(configFile)) {
    try {
      config = JSON.parse(read(configFile));
    } catch {
      throw new TokenizerError(`${configFile}: not valid JSON`);
    }
  }
  return loadTokenizer(read(file), config, file);
}

/** The tokenizer.json beside weights (a model folder or a file), when there is one. */
export function tokenizerBeside(weights: string | undefined): string | undefined {
  if (weights === undefined) return undefined;
  const file = join(isFolder(weights) ? weights : dirname(weights), "tokenizer.json");
  return existsSync(file) ? file : undefined;
}
