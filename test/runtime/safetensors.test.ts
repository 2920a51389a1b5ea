import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ITEM_SIZE,
  WeightsError,
  bf16BitsToFloat32,
  f16BitsToFloat32,
  float32ToBf16Bits,
  float32ToF16Bits,
  parseSafetensors,
  toFloat32,
  toFloat64,
  writeSafetensors,
  type Dtype,
  type TensorToWrite,
  type WeightsProblem,
} from "../../runtime/safetensors.js";

const DTYPES = Object.keys(ITEM_SIZE) as Dtype[];

/** A file built by hand: header text as given, then `padding` spaces, then `data`. */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), padding = 0): Uint8Array {
  const text = new TextEncoder().encode(header + " ".repeat(padding));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

function expectWeightsError(fn: () => unknown, problem: WeightsProblem, tensor?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected WeightsError(${problem})`).toBeInstanceOf(WeightsError);
  const err = caught as WeightsError;
  expect(err.problem).toBe(problem);
  expect(err.tensor).toBe(tensor);
  if (tensor !== undefined) expect(err.message).toContain(`'${tensor}'`);
}

describe("float16 helpers", () => {
  it("encodes known values", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff], // max finite
      [65519.99, 0x7bff],
      [65520, 0x7c00], // tie rounds to even, which is infinity
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [1e10, 0x7c00],
      [2 ** -14, 0x0400], // min normal
      [2 ** -14 - 2 ** -24, 0x03ff], // max subnormal
      [2 ** -24, 0x0001], // min subnormal
      [2 ** -25, 0x0000], // tie between 0 and min subnormal goes to 0 (even)
      [1.5 * 2 ** -25, 0x0001],
      [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units goes to 2
      [1 + 2 ** -11, 0x3c00], // tie goes to even mantissa
      [1 + 3 * 2 ** -11, 0x3c02],
      [2 - 2 ** -12, 0x4000], // mantissa rounds up into the exponent
    ];
    for (const [value, bits] of cases) {
      expect(float32ToF16Bits(value), `f16(${value})`).toBe(bits);
    }
    expect(float32ToF16Bits(NaN)).toBe(0x7e00);
  });

  it("decodes every bit pattern and re-encodes it exactly", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = f16BitsToFloat32(bits);
      const isNaN = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      if (isNaN) {
        expect(Number.isNaN(value)).toBe(true);
        continue;
      }
      if (float32ToF16Bits(value) !== bits) expect(float32ToF16Bits(value)).toBe(bits);
    }
    expect(f16BitsToFloat32(0x3555)).toBeCloseTo(1 / 3, 3);
    expect(Object.is(f16BitsToFloat32(0x8000), -0)).toBe(true);
  });

  it("rounds every float32 to the nearest float16 (ties to even)", () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, min: -70000, max: 70000 }), (x) => {
        const bits = float32ToF16Bits(x);
        const got = f16BitsToFloat32(bits);
        if (!Number.isFinite(got)) return Math.abs(x) >= 65520;
        // The neighbours on either side are no closer.
        for (const other of [bits - 1, bits + 1]) {
          if ((other & 0x7fff) >= 0x7c00 || other < 0 || other > 0xffff) continue;
          const neighbour = f16BitsToFloat32(other);
          const dGot = Math.abs(x - got);
          const dOther = Math.abs(x - neighbour);
          if (dOther < dGot) return false;
          if (dOther === dGot && (bits & 1) === 1 && Math.sign(neighbour) === Math.sign(got)) {
            return false;
          }
        }
        return true;
      }),
      { numRuns: 20000 },
    );
  });

  it("converts bfloat16 with round to nearest even", () => {
    expect(float32ToBf16Bits(1)).toBe(0x3f80);
    expect(bf16BitsToFloat32(0x3f80)).toBe(1);
    expect(bf16BitsToFloat32(0xc040)).toBe(-3);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    u[0] = 0x3f808000; // halfway, even below
    expect(float32ToBf16Bits(f[0]!)).toBe(0x3f80);
    u[0] = 0x3f818000; // halfway, even above
    expect(float32ToBf16Bits(f[0]!)).toBe(0x3f82);
    u[0] = 0x3f808001;
    expect(float32ToBf16Bits(f[0]!)).toBe(0x3f81);
    expect(float32ToBf16Bits(Infinity)).toBe(0x7f80);
    expect(Number.isNaN(bf16BitsToFloat32(float32ToBf16Bits(NaN)))).toBe(true);
  });
});

describe("writeSafetensors / parseSafetensors", () => {
  const sample: Record<Dtype, { data: TensorToWrite["data"]; values: number[] }> = {
    F64: { data: new Float64Array([1.5, -2.25, 1e300, -0]), values: [1.5, -2.25, 1e300, -0] },
    F32: {
      data: new Float32Array([1.5, -2.25, 3e38, 0]),
      values: [1.5, -2.25, Math.fround(3e38), 0],
    },
    F16: {
      data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001]),
      values: [1, -2, 65504, 2 ** -24],
    },
    BF16: { data: new Uint16Array([0x3f80, 0xc040, 0x4049, 0]), values: [1, -3, 3.140625, 0] },
    I64: {
      data: new BigInt64Array([1n, -2n, 2n ** 40n + 3n, -(2n ** 50n)]),
      values: [1, -2, 2 ** 40 + 3, -(2 ** 50)],
    },
    I32: {
      data: new Int32Array([1, -2, 2 ** 31 - 1, -(2 ** 31)]),
      values: [1, -2, 2 ** 31 - 1, -(2 ** 31)],
    },
    I16: { data: new Int16Array([1, -2, 32767, -32768]), values: [1, -2, 32767, -32768] },
    I8: { data: new Int8Array([1, -2, 127, -128]), values: [1, -2, 127, -128] },
    U64: {
      data: new BigUint64Array([1n, 2n, 2n ** 52n, 2n ** 63n]),
      values: [1, 2, 2 ** 52, 2 ** 63],
    },
    U32: { data: new Uint32Array([1, 2, 2 ** 32 - 1, 0]), values: [1, 2, 2 ** 32 - 1, 0] },
    U16: { data: new Uint16Array([1, 2, 65535, 0]), values: [1, 2, 65535, 0] },
    U8: { data: new Uint8Array([1, 2, 255, 0]), values: [1, 2, 255, 0] },
    BOOL: { data: new Uint8Array([1, 0, 1, 1]), values: [1, 0, 1, 1] },
  };

  it("round-trips every dtype", () => {
    const tensors = DTYPES.map((dtype) => ({
      name: `t_${dtype}`,
      dtype,
      shape: [2, 2],
      data: sample[dtype].data,
    }));
    const file = parseSafetensors(writeSafetensors(tensors, { format: "pt", note: "ü" }));
    expect(file.metadata).toEqual({ format: "pt", note: "ü" });
    expect(file.warnings).toEqual([]);
    expect(file.tensors.size).toBe(DTYPES.length);
    for (const dtype of DTYPES) {
      const t = file.tensors.get(`t_${dtype}`)!;
      const { data } = sample[dtype];
      expect(t.dtype).toBe(dtype);
      expect(t.shape).toEqual([2, 2]);
      expect(t.data).toEqual(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      expect(Array.from(toFloat64(t)), dtype).toEqual(sample[dtype].values);
      // toFloat32 decodes float tensors only: an integer dtype for a float tensor is an error.
      if (["F32", "F16", "BF16", "F64"].includes(dtype))
        expect(Array.from(toFloat32(t)), dtype).toEqual(sample[dtype].values.map(Math.fround));
      else expect(() => toFloat32(t, `t_${dtype}`)).toThrow(`tensor 't_${dtype}': dtype ${dtype}`);
    }
  });

  it("writes a sorted, contiguous header padded with spaces to 8 bytes", () => {
    const bytes = writeSafetensors(
      [
        { name: "b", dtype: "F32", shape: [3], data: new Float32Array(3) },
        { name: "a", dtype: "F16", shape: [1], data: new Uint16Array(1) },
        { name: "c", dtype: "I8", shape: [], data: new Int8Array(1) },
      ],
      { k: "v" },
    );
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text).toMatch(/^\{.*\} *$/);
    const header = JSON.parse(text);
    expect(Object.keys(header)).toEqual(["__metadata__", "a", "b", "c"]);
    expect(header.a.data_offsets).toEqual([0, 2]);
    expect(header.b.data_offsets).toEqual([2, 14]);
    expect(header.c).toEqual({ dtype: "I8", shape: [], data_offsets: [14, 15] });
    expect(bytes.length).toBe(8 + n + 15);
  });

  it("converts Float32Array data for half-precision dtypes", () => {
    const values = new Float32Array([1, 0.1, -65504, 2 ** -24]);
    const file = parseSafetensors(
      writeSafetensors([
        { name: "h", dtype: "F16", shape: [4], data: values },
        { name: "b", dtype: "BF16", shape: [4], data: values },
        { name: "d", dtype: "F64", shape: [4], data: values },
      ]),
    );
    expect(Array.from(toFloat32(file.tensors.get("h")!))).toEqual([
      1,
      f16BitsToFloat32(0x2e66),
      -65504,
      2 ** -24,
    ]);
    expect(toFloat32(file.tensors.get("b")!)[0]).toBe(1);
    expect(toFloat32(file.tensors.get("d")!)).toEqual(values);
  });

  it("handles awkward names and empty tensors", () => {
    const names = ["__proto__", "constructor", "", "layers.0.experts.{e}.w", "名前"];
    const bytes = writeSafetensors([
      ...names.map((name, i) => ({
        name,
        dtype: "F32" as const,
        shape: [1],
        data: new Float32Array([i]),
      })),
      { name: "empty", dtype: "F32", shape: [0, 3], data: new Float32Array(0) },
    ]);
    const file = parseSafetensors(bytes);
    names.forEach((name, i) =>
      expect(toFloat32(file.tensors.get(name)!)).toEqual(new Float32Array([i])),
    );
    expect(file.tensors.get("empty")!.data.length).toBe(0);
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
  });

  it("rejects bad tensors when writing", () => {
    const t = { name: "x", dtype: "F32" as const, shape: [2], data: new Float32Array(2) };
    expectWeightsError(() => writeSafetensors([t, t]), "bad-tensor", "x");
    expectWeightsError(
      () => writeSafetensors([{ ...t, name: "__metadata__" }]),
      "bad-tensor",
      "__metadata__",
    );
    expectWeightsError(() => writeSafetensors([{ ...t, shape: [3] }]), "size-mismatch", "x");
    expectWeightsError(() => writeSafetensors([{ ...t, shape: [-2] }]), "bad-shape", "x");
    expectWeightsError(
      () => writeSafetensors([{ ...t, dtype: "F8" as Dtype }]),
      "unknown-dtype",
      "x",
    );
  });
});

describe("an independently written file", () => {
  it("loads: unsorted names, odd padding, unaligned offsets, gaps reported", () => {
    // Data region: [pad byte][f32 x2 at offset 1][i64 at 9][f16 at 17][bf16 at 19][2 spare bytes]
    const data = new Uint8Array(23);
    const view = new DataView(data.buffer);
    view.setFloat32(1, 0.5, true);
    view.setFloat32(5, -1.25, true);
    view.setBigInt64(9, -3n, true);
    view.setUint16(17, 0x3800, true); // 0.5 in f16
    view.setUint16(19, 0x4000, true); // 2 in bf16
    const header =
      '{ "z.weight": {"data_offsets": [1, 9], "shape": [1, 2], "dtype": "F32"},\n' +
      '  "a.count": {"dtype": "I64", "shape": [], "data_offsets": [9, 17]},\n' +
      '  "__metadata__": {"author": "hand"},\n' +
      '  "m.half": {"dtype": "F16", "shape": [1], "data_offsets": [17, 19]},\n' +
      '  "m.brain": {"dtype": "BF16", "shape": [1], "data_offsets": [19, 21]} }';
    const file = parseSafetensors(rawFile(header, data, 3), "hand.safetensors");
    expect([...file.tensors.keys()].sort()).toEqual(["a.count", "m.brain", "m.half", "z.weight"]);
    expect(file.metadata).toEqual({ author: "hand" });
    const w = file.tensors.get("z.weight")!;
    expect(w.shape).toEqual([1, 2]);
    expect(Array.from(toFloat32(w))).toEqual([0.5, -1.25]);
    expect(Array.from(toFloat64(file.tensors.get("a.count")!))).toEqual([-3]);
    expect(Array.from(toFloat32(file.tensors.get("m.half")!))).toEqual([0.5]);
    expect(Array.from(toFloat32(file.tensors.get("m.brain")!))).toEqual([2]);
    expect(file.warnings).toEqual([
      "data bytes [0, 1) belong to no tensor",
      "data bytes [21, 23) belong to no tensor",
    ]);
  });
});

describe("parseSafetensors rejects bad input with WeightsError", () => {
  const f32 = (offsets: unknown, shape: unknown = [2], dtype: unknown = "F32") =>
    JSON.stringify({ x: { dtype, shape, data_offsets: offsets } });
  const bytes8 = new Uint8Array(8);

  it("file and header framing", () => {
    expectWeightsError(() => parseSafetensors(new Uint8Array(5)), "file-too-short");
    const beyond = rawFile("{}");
    new DataView(beyond.buffer).setUint32(0, 1000, true);
    expectWeightsError(() => parseSafetensors(beyond), "header-beyond-file");
    const huge = rawFile("{}");
    new DataView(huge.buffer).setUint32(0, 100_000_001, true);
    expectWeightsError(() => parseSafetensors(huge), "header-too-large");
    const hiWord = rawFile("{}");
    new DataView(hiWord.buffer).setUint32(4, 1, true);
    expectWeightsError(() => parseSafetensors(hiWord), "header-too-large");
    expectWeightsError(() => parseSafetensors(rawFile("{not json")), "header-not-json");
    const badUtf8 = rawFile('{"x":"--"}');
    badUtf8[14] = 0xff;
    expectWeightsError(() => parseSafetensors(badUtf8), "header-not-json");
    for (const header of ["[1, 2]", "null", "3", '"str"']) {
      expectWeightsError(() => parseSafetensors(rawFile(header)), "header-not-object");
    }
  });

  it("entries, dtypes, shapes and offsets", () => {
    const parse =
      (header: string, data = bytes8) =>
      () =>
        parseSafetensors(rawFile(header, data));
    expectWeightsError(parse('{"x": 3}'), "bad-entry", "x");
    expectWeightsError(parse('{"x": [1]}'), "bad-entry", "x");
    for (const dtype of ["F8_E4M3", "f32", "toString", 4, null]) {
      expectWeightsError(parse(f32([0, 8], [2], dtype)), "unknown-dtype", "x");
    }
    for (const shape of [[2, -1], [1.5], "2", [null], null, [2 ** 60]]) {
      expectWeightsError(parse(f32([0, 8], shape)), "bad-shape", "x");
    }
    for (const offsets of [[0], [0, 8, 9], [-1, 7], [0, "8"], [0.5, 8], undefined, {}]) {
      expectWeightsError(parse(f32(offsets)), "bad-offsets", "x");
    }
    expectWeightsError(
      parse('{"x": {"shape": [2], "data_offsets": [0, 8]}}'),
      "unknown-dtype",
      "x",
    );
    expectWeightsError(parse('{"x": {"dtype": "F32", "data_offsets": [0, 8]}}'), "bad-shape", "x");
    expectWeightsError(parse(f32([8, 0])), "offsets-reversed", "x");
    expectWeightsError(parse(f32([0, 4])), "size-mismatch", "x");
    expectWeightsError(parse(f32([0, 8], [2], "F64")), "size-mismatch", "x");
  });

  it("overlaps, out-of-range offsets and truncation", () => {
    const two = (a: number[], b: number[]) =>
      JSON.stringify({
        a: { dtype: "F32", shape: [2], data_offsets: a },
        b: { dtype: "F32", shape: [2], data_offsets: b },
      });
    expectWeightsError(
      () => parseSafetensors(rawFile(two([0, 8], [4, 12]), new Uint8Array(16))),
      "overlap",
      "b",
    );
    // A gap before the tensor: the offsets are wrong, not the file short.
    expectWeightsError(
      () => parseSafetensors(rawFile(f32([100, 108]), new Uint8Array(16))),
      "out-of-range",
      "x",
    );
    // Consistent header, data cut short.
    const full = writeSafetensors([
      { name: "a", dtype: "F32", shape: [4], data: new Float32Array(4) },
      { name: "b", dtype: "F32", shape: [4], data: new Float32Array(4) },
    ]);
    expectWeightsError(() => parseSafetensors(full.subarray(0, full.length - 1)), "truncated", "b");
    const err = (() => {
      try {
        parseSafetensors(full.subarray(0, full.length - 20), "model.safetensors");
      } catch (e) {
        return e as WeightsError;
      }
    })();
    expect(err?.message).toMatch(/^model\.safetensors: tensor 'b': file is truncated/);
  });

  it("metadata", () => {
    const meta = (m: string) => () => parseSafetensors(rawFile(`{"__metadata__": ${m}}`));
    expectWeightsError(meta('{"a": 1}'), "bad-metadata");
    expectWeightsError(meta('{"a": null}'), "bad-metadata");
    expectWeightsError(meta("[]"), "bad-metadata");
    expectWeightsError(meta('"x"'), "bad-metadata");
    expect(parseSafetensors(rawFile('{"__metadata__": {"__proto__": "p"}}')).metadata).toEqual(
      JSON.parse('{"__proto__": "p"}'),
    );
  });
});

describe("property tests", () => {
  const dtypeArb = fc.constantFrom(...DTYPES);
  const tensorArb = fc
    .record({
      name: fc.string({ maxLength: 12 }).filter((s) => s !== "__metadata__"),
      dtype: dtypeArb,
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    })
    .chain((t) => {
      const bytes = t.shape.reduce((a, b) => a * b, 1) * ITEM_SIZE[t.dtype];
      return fc
        .uint8Array({ minLength: bytes, maxLength: bytes })
        .map((data) => ({ ...t, data }) as TensorToWrite);
    });
  const filesArb = fc.record({
    tensors: fc.uniqueArray(tensorArb, { selector: (t) => t.name, maxLength: 6 }),
    metadata: fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), {
      nil: undefined,
    }),
  });

  it("round-trips random tensors", () => {
    fc.assert(
      fc.property(filesArb, ({ tensors, metadata }) => {
        const file = parseSafetensors(writeSafetensors(tensors, metadata));
        expect(file.metadata).toEqual(metadata ?? {});
        expect(file.warnings).toEqual([]);
        expect(file.tensors.size).toBe(tensors.length);
        for (const t of tensors) {
          const got = file.tensors.get(t.name)!;
          expect(got.dtype).toBe(t.dtype);
          expect(got.shape).toEqual(t.shape);
          expect(got.data).toEqual(t.data);
        }
      }),
      { numRuns: 300 },
    );
  });

  /** Parsing and converting never throws anything but WeightsError. */
  function onlyWeightsErrors(bytes: Uint8Array): void {
    try {
      const file = parseSafetensors(bytes);
      for (const t of file.tensors.values()) {
        toFloat32(t);
        toFloat64(t);
      }
    } catch (err) {
      if (!(err instanceof WeightsError)) throw err;
    }
  }

  const mutation = fc.oneof(
    fc.record({
      kind: fc.constant("set" as const),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(), byte: fc.constant(0) }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
  );

  it("survives random corruption and truncation with WeightsError only", () => {
    fc.assert(
      fc.property(filesArb, fc.array(mutation, { minLength: 1, maxLength: 4 }), (f, mutations) => {
        let bytes = writeSafetensors(f.tensors, f.metadata);
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === "set" && at < bytes.length) bytes[at] = m.byte;
          if (m.kind === "truncate") bytes = bytes.slice(0, at);
          if (m.kind === "insert") {
            bytes = Uint8Array.from([...bytes.subarray(0, at), m.byte, ...bytes.subarray(at)]);
          }
        }
        onlyWeightsErrors(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("survives arbitrary JSON headers and random bytes with WeightsError only", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.uint8Array({ maxLength: 64 }), (header, data) => {
        onlyWeightsErrors(rawFile(JSON.stringify(header) ?? "", data));
      }),
      { numRuns: 1000 },
    );
    const entry = fc.record(
      {
        dtype: fc.oneof(fc.constantFrom(...DTYPES), fc.jsonValue()),
        shape: fc.oneof(
          fc.array(fc.integer({ min: -1, max: 5 }), { maxLength: 3 }),
          fc.jsonValue(),
        ),
        data_offsets: fc.oneof(
          fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 3 }),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 4 }), entry),
        fc.uint8Array({ maxLength: 48 }),
        (h, d) => {
          onlyWeightsErrors(rawFile(JSON.stringify(h), d));
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), onlyWeightsErrors), { numRuns: 500 });
  });
});
