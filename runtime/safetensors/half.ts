// Half-precision conversions: IEEE binary16 (F16) and bfloat16 (BF16) bits to and from numbers,
// rounding to nearest even.

/** IEEE binary16 bits for `value`, rounded to nearest even (from the exact double). */
export function float32ToF16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  // 65520 is halfway between 65504 (max finite) and 65536; ties go to even, i.e. infinity.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal; 1024 = min normal
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a)
    e--; // log2 can be off by one ulp near powers of two
  else if (2 ** (e + 1) <= a) e++;
  // The mantissa may round up to 2048, which carries into the exponent as it should.
  return sign | (((e + 15) << 10) + roundHalfEven(a * 2 ** (10 - e)) - 1024);
}

export function f16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 bits (the top half of float32), rounded to nearest even from float32. */
export function float32ToBf16Bits(value: number): number {
  if (Number.isNaN(value)) return 0x7fc0;
  f32[0] = value;
  const bits = u32[0]!;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16BitsToFloat32(bits: number): number {
  u32[0] = (bits & 0xffff) << 16;
  return f32[0]!;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff !== 0.5) return diff < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}
