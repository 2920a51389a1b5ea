// Reading safetensors: the header validated entry by entry (every problem a WeightsError naming
// the tensor), tensors as views into the file's bytes, and their decoding to floats.
import {
  type Dtype,
  ITEM_SIZE,
  LITTLE_ENDIAN,
  MAX_HEADER_BYTES,
  type SafetensorsFile,
  type Tensor,
  WeightsError,
  type WeightsProblem,
  isNonNegativeInt,
} from "./format.js";
import { bf16BitsToFloat32, f16BitsToFloat32 } from "./half.js";

export function parseSafetensors(bytes: Uint8Array, source = "weights"): SafetensorsFile {
  const fail = (problem: WeightsProblem, message: string, tensor?: string): never => {
    throw new WeightsError(problem, message, source, tensor);
  };
  if (bytes.length < 8) fail("file-too-short", `file is ${bytes.length} bytes, need at least 8`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength64 = view.getBigUint64(0, true); // exact in messages, up to 2^64 - 1
  if (headerLength64 > BigInt(MAX_HEADER_BYTES)) {
    fail("header-too-large", `header length ${headerLength64} exceeds ${MAX_HEADER_BYTES} bytes`);
  }
  const headerLength = Number(headerLength64);
  if (headerLength > MAX_HEADER_BYTES) {
    fail("header-too-large", `header length ${headerLength} exceeds ${MAX_HEADER_BYTES} bytes`);
  }
  if (headerLength > bytes.length - 8) {
    fail("header-beyond-file", `header length ${headerLength} runs past the end of the file`);
  }

  let header: unknown;
  let text = "";
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
    header = JSON.parse(text);
  } catch (err) {
    fail("header-not-json", `header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) fail("header-not-object", "header is not a JSON object");
  // JSON.parse keeps the last of two equal keys; a weight named twice is an error, not a choice.
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined)
    fail("duplicate-name", "the header names this tensor more than once", duplicate);

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: Dtype; shape: number[]; begin: number; end: number }[] = [];

  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (!isPlainObject(entry)) fail("bad-metadata", "__metadata__ must be an object");
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== "string") {
          fail("bad-metadata", `__metadata__ value for '${key}' is not a string`);
        }
      }
      // fromEntries defines keys such as "__proto__" as plain properties.
      metadata = Object.fromEntries(Object.entries(entry as Record<string, string>));
      continue;
    }
    if (!isPlainObject(entry)) fail("bad-entry", "entry is not an object", name);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (typeof dtype !== "string" || !Object.hasOwn(ITEM_SIZE, dtype)) {
      fail("unknown-dtype", `unknown dtype ${JSON.stringify(dtype)}`, name);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      fail("bad-shape", `shape ${exactJson(shape)} is not a list of non-negative ints`, name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt)) {
      fail("bad-offsets", `data_offsets ${exactJson(offsets)} is not [begin, end]`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail("offsets-reversed", `data_offsets [${begin}, ${end}] end < begin`, name);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const expected = numel * ITEM_SIZE[dtype as Dtype];
    if (end - begin !== expected) {
      fail(
        "size-mismatch",
        `data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} ` +
          `[${(shape as number[]).join(", ")}] needs ${expected}`,
        name,
      );
    }
    entries.push({ name, dtype: dtype as Dtype, shape: shape as number[], begin, end });
  }

  // Overlaps and gaps, in file order. Empty tensors occupy no bytes.
  const ordered = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  const warnings: string[] = [];
  let covered = 0;
  let previous: string | undefined;
  for (const e of ordered) {
    if (e.begin < covered) {
      fail("overlap", `data_offsets [${e.begin}, ${e.end}] overlap tensor '${previous}'`, e.name);
    }
    if (e.begin > covered) warnings.push(`data bytes [${covered}, ${e.begin}) belong to no tensor`);
    covered = e.end;
    previous = e.name;
  }

  if (covered > dataLength) {
    // A consistent header (no gaps) with too little data means the file was cut short.
    const last = ordered[ordered.length - 1]!;
    if (warnings.length === 0) {
      fail(
        "truncated",
        `file is truncated: the data region has ${dataLength} bytes, the header needs ${covered}`,
        last.name,
      );
    }
    const bad = ordered.find((e) => e.end > dataLength)!;
    fail(
      "out-of-range",
      `data_offsets [${bad.begin}, ${bad.end}] run past the ${dataLength}-byte data region`,
      bad.name,
    );
  }
  if (covered < dataLength) {
    warnings.push(`data bytes [${covered}, ${dataLength}) belong to no tensor`);
  }

  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const data = bytes.subarray(dataStart + e.begin, dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata, warnings };
}

/** The float dtypes a float tensor (weight or input) may be stored in. */
export const FLOAT_DTYPES: readonly Dtype[] = ["F32", "F16", "BF16", "F64"];

/**
 * Decodes a float tensor to float32 (little-endian, any alignment). An integer dtype is an error
 * naming the tensor: converting token ids or quantised codes to floats would be silent garbage.
 */
export function toFloat32(tensor: Tensor, name = "tensor", source = "weights"): Float32Array {
  if (!FLOAT_DTYPES.includes(tensor.dtype)) {
    throw new WeightsError(
      "unsupported-dtype",
      `dtype ${tensor.dtype} is not a float type; a float tensor must be ${FLOAT_DTYPES.join(", ")}`,
      source,
      name,
    );
  }
  if (tensor.dtype === "F32" && LITTLE_ENDIAN && tensor.data.byteOffset % 4 === 0) {
    const { buffer, byteOffset, byteLength } = tensor.data;
    return new Float32Array(buffer, byteOffset, byteLength / 4).slice();
  }
  return Float32Array.from(toFloat64(tensor, name, source));
}

/** Decodes a float or integer tensor to float64 (little-endian, any alignment). */
export function toFloat64(tensor: Tensor, name = "tensor", source = "weights"): Float64Array {
  const { dtype, data } = tensor;
  const size = ITEM_SIZE[dtype];
  const n = Math.floor(data.byteLength / size);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float64Array(n);
  const read = READERS[dtype];
  if (!read)
    throw new WeightsError("unsupported-dtype", `cannot convert ${dtype} to float`, source, name);
  for (let i = 0; i < n; i++) out[i] = read(view, i * size);
  return out;
}

type Reader = (view: DataView, offset: number) => number;
const READERS: Partial<Record<Dtype, Reader>> = {
  F64: (v, o) => v.getFloat64(o, true),
  F32: (v, o) => v.getFloat32(o, true),
  F16: (v, o) => f16BitsToFloat32(v.getUint16(o, true)),
  BF16: (v, o) => bf16BitsToFloat32(v.getUint16(o, true)),
  // One rounding: the high word times 2^32 is exact.
  I64: (v, o) => v.getUint32(o, true) + v.getInt32(o + 4, true) * 2 ** 32,
  U64: (v, o) => v.getUint32(o, true) + v.getUint32(o + 4, true) * 2 ** 32,
  I32: (v, o) => v.getInt32(o, true),
  U32: (v, o) => v.getUint32(o, true),
  I16: (v, o) => v.getInt16(o, true),
  U16: (v, o) => v.getUint16(o, true),
  I8: (v, o) => v.getInt8(o),
  U8: (v, o) => v.getUint8(o),
  BOOL: (v, o) => (v.getUint8(o) ? 1 : 0),
};

/**
 * The first key that the top-level object of JSON `text` holds twice, read from the raw text
 * (valid JSON, as JSON.parse accepted it). Keys are compared after unescaping.
 */
export function firstDuplicateKey(text: string): string | undefined {
  const seen = new Set<string>();
  let i = text.indexOf("{") + 1;
  let depth = 1;
  let expectKey = true;
  while (i < text.length && depth > 0) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return key;
        seen.add(key);
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === "," && depth === 1) expectKey = true;
    i++;
  }
  return undefined;
}

/**
 * JSON of header values with integers beyond 2^53 printed exactly as the double they parsed to
 * (2^63 as 9223372036854775808, not 9223372036854776000).
 */
export function exactJson(value: unknown): string {
  if (typeof value === "number") return exactNumber(value);
  if (Array.isArray(value)) return `[${value.map(exactJson).join(", ")}]`;
  return JSON.stringify(value) ?? String(value);
}

/** A number as text; an integer too large for exact decimal printing goes through BigInt. */
export function exactNumber(n: number): string {
  return Number.isInteger(n) && !Number.isSafeInteger(n) ? BigInt(n).toString() : String(n);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
