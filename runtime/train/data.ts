// Byte-level training data (vocabulary 256): a text's bytes split once into a training part and
// a held-out validation tail, and seeded batches of (ids, next-byte targets) sequences. Batches
// depend only on (seed, step), so equal seeds replay equal runs and a resumed run continues one.
import { createRng } from "../random.js";

export const BYTE_VOCAB = 256;

/** The share of the text held out for validation (its tail). */
export const VALIDATION_SHARE = 0.1;

export class DataError extends Error {}

export interface Sequence {
  readonly ids: Int32Array;
  readonly targets: Int32Array;
}

export class ByteCorpus {
  readonly train: Uint8Array;
  readonly validation: Uint8Array;

  /** Checks that `bytes` is text long enough for sequences of `seq` bytes in both parts. */
  constructor(
    bytes: Uint8Array,
    readonly seq: number,
    readonly source = "data",
  ) {
    if (bytes.length === 0) throw new DataError(`${source} is empty`);
    const nul = bytes.indexOf(0);
    if (nul >= 0)
      throw new DataError(`${source} is not text: it holds a NUL byte at offset ${nul}`);
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new DataError(`${source} is not text: it is not valid UTF-8`);
    }
    const split = Math.floor(bytes.length * (1 - VALIDATION_SHARE));
    const needed = Math.ceil((seq + 1) / VALIDATION_SHARE);
    if (bytes.length - split < seq + 1)
      throw new DataError(
        `${source} holds ${bytes.length} bytes; sequences of ${seq} need at least ${needed} (${
          VALIDATION_SHARE * 100
        }% of it is held out for validation)`,
      );
    this.train = bytes.subarray(0, split);
    this.validation = bytes.subarray(split);
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

function sequenceAt(bytes: Uint8Array, offset: number, seq: number): Sequence {
  return {
    ids: Int32Array.from(bytes.subarray(offset, offset + seq)),
    targets: Int32Array.from(bytes.subarray(offset + 1, offset + seq + 1)),
  };
}
