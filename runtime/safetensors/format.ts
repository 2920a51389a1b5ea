// The safetensors format (https://github.com/huggingface/safetensors): u64 little-endian header
// length N, N bytes of JSON header, then the raw tensor data. Its dtypes, the parsed file, and
// the errors a weights file can have. Browser-safe: no Node imports.

export type Dtype =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

export const ITEM_SIZE: Readonly<Record<Dtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

export interface Tensor {
  dtype: Dtype;
  shape: number[];
  /** A view into the file's bytes (not copied, possibly unaligned). */
  data: Uint8Array;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
  /** Harmless oddities, e.g. data bytes that no tensor covers. */
  warnings: string[];
}

export type WeightsProblem =
  | "file-too-short"
  | "header-too-large"
  | "header-beyond-file"
  | "header-not-json"
  | "header-not-object"
  | "bad-entry"
  | "unknown-dtype"
  | "bad-shape"
  | "bad-offsets"
  | "offsets-reversed"
  | "size-mismatch"
  | "overlap"
  | "out-of-range"
  | "truncated"
  | "bad-metadata"
  | "bad-tensor"
  | "duplicate-name"
  | "unsupported-dtype";

/** A problem with a weights file or tensor; `tensor` names it when there is one. */
export class WeightsError extends Error {
  constructor(
    readonly problem: WeightsProblem,
    message: string,
    readonly source: string,
    readonly tensor?: string,
  ) {
    super(`${source}: ${tensor === undefined ? "" : `tensor '${tensor}': `}${message}`);
    this.name = "WeightsError";
  }
}

/** Same limit as the reference implementation. */
export const MAX_HEADER_BYTES = 100_000_000;

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function isNonNegativeInt(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}
