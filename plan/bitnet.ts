// BitNet b1.58 (arXiv 2402.17764) number formats, shared by the compiler's reference semantics
// and the runtime's loader: the absmean ternary weights, the per-token int8 activations, and
// how both are packed into u32 words on the GPU. All arithmetic is float64 and deterministic,
// so the reference and the weights the GPU receives agree value for value.
import { expertWeightName } from "./weightNames.js";

/** Ternary weights per u32 word (2 bits each). */
export const TERNARY_PER_WORD = 16;
/** int8 activations per u32 word. */
export const INT8_PER_WORD = 4;
/** Largest activation magnitude: 8-bit absmax quantisation into [-127, 127]. */
export const INT8_MAX = 127;
/** Lower clamp of the absmean and absmax scales (the official code's 1e-5). */
export const SCALE_EPS = 1e-5;

/** Round half to even, as torch.round and WGSL's round() do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  const tie = Math.abs(x - Math.trunc(x)) === 0.5;
  return (tie && r % 2 !== 0 ? r - 1 : r) + 0; // + 0 turns -0 into 0
}

export interface TernaryMatrix {
  /** Values in {-1, 0, 1}, row-major [rows, cols]. */
  readonly values: Int8Array;
  /** The per-tensor scale γ (an f32 value): W ≈ γ · values. */
  readonly scale: number;
}

/**
 * Absmean quantisation of one tensor (the paper's per-tensor rule): γ = max(mean|W|, ε) rounded
 * to f32, W̃ = RoundClip(W / γ, -1, 1) with ties to even.
 */
export function ternarize(w: ArrayLike<number>): TernaryMatrix {
  let sum = 0;
  for (let i = 0; i < w.length; i++) sum += Math.abs(w[i]!);
  const scale = Math.fround(Math.max(w.length > 0 ? sum / w.length : 0, SCALE_EPS));
  const values = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) {
    values[i] = Math.max(-1, Math.min(1, roundHalfEven(w[i]! / scale)));
  }
  return { values, scale };
}

export interface Int8Rows {
  /** Values in [-127, 127], row-major [rows, cols]. */
  readonly values: Int8Array;
  /** Per row: the dequantisation factor absmax / 127 (absmax clamped below by ε). */
  readonly scales: Float64Array;
}

/** Per-token absmax quantisation: q = clamp(round(x · 127 / absmax), -127, 127). */
export function quantizeRows(x: ArrayLike<number>, cols: number): Int8Rows {
  const rows = cols > 0 ? x.length / cols : 0;
  const values = new Int8Array(x.length);
  const scales = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let absmax = 0;
    for (let c = 0; c < cols; c++) absmax = Math.max(absmax, Math.abs(x[r * cols + c]!));
    const a = Math.max(absmax, SCALE_EPS);
    const s = INT8_MAX / a;
    for (let c = 0; c < cols; c++) {
      const q = roundHalfEven(x[r * cols + c]! * s);
      values[r * cols + c] = Math.max(-INT8_MAX, Math.min(INT8_MAX, q));
    }
    scales[r] = a / INT8_MAX;
  }
  return { values, scales };
}

// ---------------------------------------------------------------------------------------------
// The packed layouts.
//
// A ternary row of `cols` values takes ceil(cols / 16) words; an int8 row takes four words per
// ternary word (zero padding at the end). Inside a word, value i of its
// block of 16 (group g = i >> 2, lane j = i & 3) sits at bits 8j + 2g as the code value + 1
// (0, 1, 2; code 3 is invalid). So `(word >> 2g) & 0x03030303` yields the codes of values
// 4g..4g+3 as the four bytes of a u32, lined up with the int8 activation word that holds
// activations 4g..4g+3 (byte j = activation 4g+j): one dot4I8Packed per four weights.
// Padding values past `cols` have code 1 (zero).
//
// A t2 weight buffer (one or more stacked matrices, e.g. one per expert) starts with one f32
// scale per matrix, padded to a multiple of 4 words, then the matrices' packed rows in order.

export function ternaryWordsPerRow(cols: number): number {
  return Math.ceil(cols / TERNARY_PER_WORD);
}

/** Words of a packed int8 row: padded with zeros to whole ternary words (4 int8 words each). */
export function int8WordsPerRow(cols: number): number {
  return (ternaryWordsPerRow(cols) * TERNARY_PER_WORD) / INT8_PER_WORD;
}

/** Header words of a t2 buffer holding `matrices` scales. */
export function ternaryHeaderWords(matrices: number): number {
  return Math.ceil(matrices / 4) * 4;
}

/** Bytes of a t2 buffer for a weight of shape [...stack, rows, cols]. */
export function ternaryBufferBytes(shape: readonly number[]): number {
  const [rows, cols] = shape.slice(-2) as [number, number];
  const matrices = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return 4 * (ternaryHeaderWords(matrices) + matrices * rows * ternaryWordsPerRow(cols));
}

/** Bit offset of value i (0..15) inside its word. */
export function ternaryBit(i: number): number {
  return 8 * (i & 3) + 2 * (i >> 2);
}

/** Packs ternary rows [rows, cols] into words (rows × ceil(cols/16)). */
export function packTernary(values: ArrayLike<number>, rows: number, cols: number): Uint32Array {
  const per = ternaryWordsPerRow(cols);
  const words = new Uint32Array(rows * per);
  for (let r = 0; r < rows; r++) {
    for (let w = 0; w < per; w++) {
      let word = 0;
      for (let i = 0; i < TERNARY_PER_WORD; i++) {
        const c = w * TERNARY_PER_WORD + i;
        const code = c < cols ? values[r * cols + c]! + 1 : 1;
        word |= code << ternaryBit(i);
      }
      words[r * per + w] = word >>> 0;
    }
  }
  return words;
}

export class PackedWeightError extends Error {}

/**
 * Unpacks words (rows × ceil(cols/16)) to values; a code 3 anywhere or a non-zero padding value
 * is an error naming `what` and the position.
 */
export function unpackTernary(
  words: Uint32Array,
  rows: number,
  cols: number,
  what: string,
): Int8Array {
  const per = ternaryWordsPerRow(cols);
  if (words.length !== rows * per) {
    throw new PackedWeightError(
      `${what}: packed ternary data has ${words.length} words, expected ${rows * per} (${rows} rows of ${per} words for ${cols} values)`,
    );
  }
  const values = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let w = 0; w < per; w++) {
      const word = words[r * per + w]!;
      for (let i = 0; i < TERNARY_PER_WORD; i++) {
        const c = w * TERNARY_PER_WORD + i;
        const code = (word >>> ternaryBit(i)) & 3;
        if (code === 3) {
          throw new PackedWeightError(
            `${what}: not ternary: row ${r}, column ${c} has the 2-bit code 3 (codes are value + 1: 0, 1, 2)`,
          );
        }
        if (c < cols) values[r * cols + c] = code - 1;
        else if (code !== 1) {
          throw new PackedWeightError(
            `${what}: row ${r} has a non-zero padding value past column ${cols - 1}`,
          );
        }
      }
    }
  }
  return values;
}

/** One t2 buffer from ternary matrices (each [rows, cols]) and their scales. */
export function ternaryBuffer(
  matrices: readonly TernaryMatrix[],
  rows: number,
  cols: number,
): Uint32Array {
  const header = ternaryHeaderWords(matrices.length);
  const per = rows * ternaryWordsPerRow(cols);
  const out = new Uint32Array(header + matrices.length * per);
  const scales = new Float32Array(out.buffer, 0, matrices.length);
  matrices.forEach((m, k) => {
    scales[k] = m.scale;
    out.set(packTernary(m.values, rows, cols), header + k * per);
  });
  return out;
}

/** Packs int8 rows [rows, cols] into words (rows × int8WordsPerRow), byte j = value 4w + j. */
export function packInt8(values: ArrayLike<number>, rows: number, cols: number): Uint32Array {
  const per = int8WordsPerRow(cols);
  const words = new Uint32Array(rows * per);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const byte = values[r * cols + c]! & 0xff;
      const k = r * per + (c >> 2);
      words[k] = (words[k]! | (byte << (8 * (c & 3)))) >>> 0;
    }
  }
  return words;
}

// ---------------------------------------------------------------------------------------------
// Loading: a t2 weight of shape [...stack, rows, cols] from f32 master weights (quantised here,
// one scale per matrix) or from already packed matrices; and back to values for the reference.

/** Quantises f32 master weights, one absmean scale per matrix; non-finite values are errors. */
export function ternaryFromMaster(
  name: string,
  master: ArrayLike<number>,
  shape: readonly number[],
): Uint32Array {
  const [rows, cols] = shape.slice(-2) as [number, number];
  const size = rows * cols;
  const matrices = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const quantised: TernaryMatrix[] = [];
  for (let m = 0; m < matrices; m++) {
    const slice = Array.prototype.slice.call(master, m * size, (m + 1) * size) as number[];
    const bad = slice.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new PackedWeightError(
        `${name}: master weight ${slice[bad]} at index ${m * size + bad} is not finite; cannot quantise`,
      );
    }
    quantised.push(ternarize(slice));
  }
  return ternaryBuffer(quantised, rows, cols);
}

/** A t2 buffer from packed matrices (validated: codes ternary, padding zero) and their scales. */
export function ternaryFromPacked(
  name: string,
  packed: readonly Uint32Array[],
  scales: readonly number[],
  shape: readonly number[],
): Uint32Array {
  const [rows, cols] = shape.slice(-2) as [number, number];
  const matrices = packed.map((words, m) => {
    const what = packed.length > 1 ? expertWeightName(name, m) : name;
    const scale = scales[m]!;
    if (!(Number.isFinite(scale) && scale > 0)) {
      throw new PackedWeightError(
        `${what}_scale: scale must be a positive finite number, got ${scale}`,
      );
    }
    return { values: unpackTernary(words, rows, cols, what), scale: Math.fround(scale) };
  });
  return ternaryBuffer(matrices, rows, cols);
}

/** The values γ·t of a t2 buffer as float64 (what the reference interpreter computes with). */
export function dequantizeTernary(buffer: Uint32Array, shape: readonly number[]): Float64Array {
  const [rows, cols] = shape.slice(-2) as [number, number];
  const matrices = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const header = ternaryHeaderWords(matrices);
  const per = rows * ternaryWordsPerRow(cols);
  const scales = new Float32Array(buffer.buffer, buffer.byteOffset, matrices);
  const out = new Float64Array(matrices * rows * cols);
  for (let m = 0; m < matrices; m++) {
    const words = buffer.subarray(header + m * per, header + (m + 1) * per);
    const values = unpackTernary(words, rows, cols, `matrix ${m}`);
    for (let i = 0; i < values.length; i++) out[m * rows * cols + i] = values[i]! * scales[m]!;
  }
  return out;
}
