// WgslBuilder and literals: text round trips, feature gates, and bits through a real compiler.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASELINE_PROFILE } from "../../compiler/codegen/profile.js";
import {
  WgslBuilder,
  WgslError,
  f32Literal,
  i32Literal,
  u32Literal,
} from "../../compiler/codegen/wgsl.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";

/** Parses what f32Literal prints back to a number. */
function parseLiteral(text: string): number {
  return Number(text.replace(/^\((.*)\)$/, "$1").replace(/f$/, ""));
}

const f32Value = fc.float({ noNaN: true, noDefaultInfinity: true });

describe("f32Literal", () => {
  it("round-trips every finite f32 exactly, with the shortest digits", () => {
    fc.assert(
      fc.property(f32Value, (x) => {
        const text = f32Literal(x);
        expect(Object.is(Math.fround(parseLiteral(text)), x)).toBe(true);
        expect(text).toMatch(/^\(?-?\d+(\.\d+)?(e-?\d+)?f\)?$/);
        expect(text).toMatch(/[.e]/);
        if (x < 0 || Object.is(x, -0)) expect(text.startsWith("(")).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(f32Literal(0.1)).toBe("0.1f");
    expect(f32Literal(-2)).toBe("(-2.0f)");
    expect(f32Literal(1e-6)).toBe("0.000001f");
    expect(f32Literal(1e-7)).toBe("1e-7f");
    expect(f32Literal(3.4028234663852886e38)).toBe("3.4028234663852886e38f");
    expect(f32Literal(1e-45)).toBe("1e-45f");
    expect(f32Literal(-0)).toBe("(-0.0f)");
  });

  it("refuses NaN and infinities, which only the builder can spell", () => {
    expect(() => f32Literal(NaN)).toThrow(WgslError);
    expect(() => f32Literal(Infinity)).toThrow(WgslError);
    expect(() => f32Literal(1e39)).toThrow(WgslError); // rounds to +inf in f32
  });

  it("prints integers with their suffix, negatives parenthesized", () => {
    expect(u32Literal(7)).toBe("7u");
    expect(i32Literal(-1)).toBe("(-1i)");
    expect(i32Literal(-0x80000000)).toBe("bitcast<i32>(0x80000000u)");
    expect(() => u32Literal(-1)).toThrow(WgslError);
    expect(() => i32Literal(2 ** 31)).toThrow(WgslError);
  });
});

describe("WgslBuilder", () => {
  it("emits `enable f16;` only when f16 is used, and only if the profile has it", () => {
    const plain = new WgslBuilder(BASELINE_PROFILE);
    plain.storage("x", "f32", "read_write");
    plain.entryPoint(1, "", () => plain.line("x[0] = 1.0f;"));
    expect(plain.build().code).not.toContain("enable");

    const half = new WgslBuilder(BASELINE_PROFILE);
    half.storage("x", "f16", "read_write");
    half.entryPoint(1, "", () => half.line("x[0] = 1.0h;"));
    expect(() => half.build()).toThrow("shader uses shader-f16, which profile baseline lacks");

    const f16Profile = { ...BASELINE_PROFILE, name: "f16", features: ["shader-f16" as const] };
    const ok = new WgslBuilder(f16Profile);
    ok.storage("x", "f16", "read_write");
    ok.entryPoint(1, "", () => ok.line("x[0] = 1.0h;"));
    expect(ok.build().code.startsWith("enable f16;\n")).toBe(true);
  });

  it("numbers bindings in declaration order and emits each helper once", () => {
    const b = new WgslBuilder(BASELINE_PROFILE);
    b.storage("a", "f32", "read");
    b.storage("y", "f32", "read_write");
    b.uniform("params", "Params", ["sym_T"]);
    const helper = () =>
      b.helper("twice", () => b.block("fn twice(v: f32) -> f32", () => b.line("return 2.0f * v;")));
    helper();
    b.entryPoint(64, "@builtin(global_invocation_id) g: vec3u", () => {
      b.line(`y[g.x] = ${helper()}(a[g.x]);`);
    });
    const built = b.build();
    expect(built.bindings.map((x) => [x.binding, x.name, x.kind])).toEqual([
      [0, "a", "read-only-storage"],
      [1, "y", "storage"],
      [2, "params", "uniform"],
    ]);
    expect(built.code.match(/fn twice/g)).toHaveLength(1);
    expect(built.workgroupSize).toEqual([64, 1, 1]);
    expect(() => {
      const big = new WgslBuilder(BASELINE_PROFILE);
      big.entryPoint(512, "", () => undefined);
    }).toThrow(WgslError);
  });
});

describe("literals through Dawn's compiler", () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
  });
  afterAll(() => moec?.device.destroy());

  it("store exactly the bits they denote", async () => {
    // Normal nonzero f32s only: GPUs may flush subnormals, and Tint folds -0.0f to +0.
    const normal = f32Value.filter((x) => Math.abs(x) >= 2 ** -126);
    const values = [
      ...fc.sample(normal, { numRuns: 300, seed: 42 }),
      0.1,
      1 / 3,
      3.4028234663852886e38,
      -1.1754943508222875e-38,
    ].map(Math.fround);
    const specials = [NaN, Infinity, -Infinity];
    const subnormals = [1e-45, -5e-40, 1.1754942e-38]; // compile only: stores may flush them
    const b = new WgslBuilder(BASELINE_PROFILE);
    b.storage("out", "f32", "read_write");
    b.entryPoint(1, "", () => {
      values.forEach((v, i) => b.line(`out[${i}] = ${f32Literal(v)};`));
      specials.forEach((v, i) => b.line(`out[${values.length + i}] = ${b.f32(v)};`));
    });
    const { code } = b.build();
    const tiny = new WgslBuilder(BASELINE_PROFILE);
    tiny.storage("out", "f32", "read_write");
    tiny.entryPoint(1, "", () =>
      subnormals.forEach((v, i) => tiny.line(`out[${i}] = ${f32Literal(v)};`)),
    );
    const tinyInfo = await moec.device
      .createShaderModule({ code: tiny.build().code })
      .getCompilationInfo();
    expect(tinyInfo.messages.filter((m) => m.type === "error").map((m) => m.message)).toEqual([]);
    const device = moec.device;
    const module = device.createShaderModule({ code });
    const info = await module.getCompilationInfo();
    expect(info.messages.filter((m) => m.type === "error").map((m) => m.message)).toEqual([]);
    const n = values.length + specials.length;
    const out = device.createBuffer({
      size: 4 * n,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const read = device.createBuffer({
      size: 4 * n,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const pipeline = device.createComputePipeline({
      layout: "auto", // a throwaway test shader; moec's own pipelines use explicit layouts
      compute: { module, entryPoint: "main" },
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: out } }],
      }),
    );
    pass.dispatchWorkgroups(1);
    pass.end();
    encoder.copyBufferToBuffer(out, 0, read, 0, 4 * n);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const got = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    const expectedBits = new Uint32Array(Float32Array.from(values).buffer);
    expect(Array.from(new Uint32Array(got.buffer, 0, values.length))).toEqual(
      Array.from(expectedBits),
    );
    expect(Number.isNaN(got[values.length])).toBe(true);
    expect(got[values.length + 1]).toBe(Infinity);
    expect(got[values.length + 2]).toBe(-Infinity);
  });
});
