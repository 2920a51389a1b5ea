// Training data: a text's bytes (vocabulary 256) or its tokenizer's ids, split once into a
// training part and a held-out validation tail, and seeded batches of (ids, next-token targets).
// Batches depend only on (seed, step), so equal seeds replay equal runs and a resumed run
// continues one.
import { createRng } from "../random.js";

export const BYTE_VOCAB = 256;

/** The share of the text held out for validation (its tail). */
export const VALIDATION_SHARE = 0.1;

export class DataError extends Error {}

export interface Sequence {
  readonly ids: Int32Array;
  readonly targets: Int32Array;
}

/**
 * A token stream split once into a training part and a held-out validation tail (its last 10%),
 * with seeded batches of (ids, next-token targets). Bytes of a text (ByteCorpus) or the ids a
 * tokenizer made of one.
 */
export class TokenCorpus {
  readonly train: Uint8Array | Int32Array;
  readonly validation: Uint8Array | Int32Array;

  constructor(
    tokens: Uint8Array | Int32Array,
    readonly seq: number,
    readonly source = "data",
    /** What one token is, for messages: "byte" or "token". */
    readonly unit: "byte" | "token" = "token",
  ) {
    const split = Math.floor(tokens.length * (1 - VALIDATION_SHARE));
    const needed = Math.ceil((seq + 1) / VALIDATION_SHARE);
    if (tokens.length - split < seq + 1)
      throw new DataError(
        `${source} holds ${tokens.length} ${unit}s; sequences of ${seq} need at least ${needed} (${
          VALIDATION_SHARE * 100
        }% of it is held out for validation)`,
      );
    this.train = tokens.subarray(0, split);
    this.validation = tokens.subarray(split);
  }

  /** `batch` training sequences of step `step` (1-based), at seeded offsets. */
  batch(step: number, batch: number, seed: number): Sequence[] {
    const rng = createRng(seed, 1_000_003 + step);
    const span = this.train.length - this.seq; // offsets 0 .. span - 1 leave room for targets
    return Array.from({ length: batch }, () =>
      sequenceAt(this.train, rng.nextUint32() % span, this.seq),
    );
  }

  /** Consecutive validation sequences from the start of the held-out tail (at most `count`). */
  validationSequences(count: number): Sequence[] {
    const n = Math.min(count, Math.floor((this.validation.length - 1) / this.seq));
    return Array.from({ length: n }, (_, i) => sequenceAt(this.validation, i * this.seq, this.seq));
  }
}

/** A text's bytes as tokens (vocabulary 256): checked to be non-empty UTF-8 without NUL bytes. */
export class ByteCorpus extends TokenCorpus {
  constructor(bytes: Uint8Array, seq: number, source = "data") {
    super(checkedText(bytes, source), seq, source, "byte");
  }
}

/** `bytes` when they are text; a DataError naming the problem otherwise. */
export function checkedText(bytes: Uint8Array, source: string): Uint8Array {
  if (bytes.length === 0) throw new DataError(`${source} is empty`);
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new DataError(`${source} is not text: it holds a NUL byte at offset ${nul}`);
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(`${source} is not text: it is not valid UTF-8`);
  }
  return bytes;
}

function sequenceAt(tokens: Uint8Array | Int32Array, offset: number, seq: number): Sequence {
  return {
    ids: Int32Array.from(tokens.subarray(offset, offset + seq)),
    targets: Int32Array.from(tokens.subarray(offset + 1, offset + seq + 1)),
  };
}
