// Writing safetensors: tensors sorted by name, contiguous, the header padded to 8 bytes.
import {
  type Dtype,
  ITEM_SIZE,
  LITTLE_ENDIAN,
  WeightsError,
  type WeightsProblem,
  isNonNegativeInt,
} from "./format.js";
import { float32ToBf16Bits, float32ToF16Bits } from "./half.js";

type TypedArray =
  | Float64Array
  | Float32Array
  | Uint32Array
  | Int32Array
  | Uint16Array
  | Int16Array
  | Uint8Array
  | Int8Array
  | BigInt64Array
  | BigUint64Array;

export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  shape: number[];
  /**
   * The raw little-endian elements (e.g. Uint16Array of bits for F16/BF16). As a convenience,
   * a Float32Array or Float64Array is converted for the float dtypes F16, BF16, F32, F64.
   */
  data: TypedArray;
}

/** Writes tensors sorted by name, contiguous, header padded with spaces to 8 bytes. */
export function writeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata?: Record<string, string>,
): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error("writeSafetensors: big-endian hosts are not supported");
  const fail = (problem: WeightsProblem, message: string, tensor: string): never => {
    throw new WeightsError(problem, message, "writeSafetensors", tensor);
  };
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // No prototype, so names like "__proto__" or "constructor" are plain keys.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of sorted) {
    if (t.name === "__metadata__" || Object.hasOwn(header, t.name)) {
      fail("bad-tensor", "duplicate or reserved tensor name", t.name);
    }
    if (!Object.hasOwn(ITEM_SIZE, t.dtype))
      fail("unknown-dtype", `unknown dtype ${t.dtype}`, t.name);
    if (!t.shape.every(isNonNegativeInt)) fail("bad-shape", `bad shape [${t.shape}]`, t.name);
    const bytes = encodeTensorData(t);
    const expected = t.shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[t.dtype];
    if (bytes.byteLength !== expected) {
      fail(
        "size-mismatch",
        `data has ${bytes.byteLength} bytes, ${t.dtype} [${t.shape}] needs ${expected}`,
        t.name,
      );
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + expected] };
    chunks.push(bytes);
    offset += expected;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, padded % 2 ** 32, true);
  view.setUint32(4, Math.floor(padded / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function encodeTensorData({ dtype, data }: TensorToWrite): Uint8Array {
  if (data instanceof Float32Array || data instanceof Float64Array) {
    if (dtype === "F16") return asBytes(Uint16Array.from(data, float32ToF16Bits));
    if (dtype === "BF16") return asBytes(Uint16Array.from(data, float32ToBf16Bits));
    if (dtype === "F32" && data instanceof Float64Array) return asBytes(Float32Array.from(data));
    if (dtype === "F64" && data instanceof Float32Array) return asBytes(Float64Array.from(data));
  }
  return asBytes(data);
}

function asBytes(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
