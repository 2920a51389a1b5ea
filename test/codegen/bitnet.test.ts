// The integer part of the BitNet kernels on Dawn: ternary_dot16 over packed weights and packed
// int8 activations must equal the exact integer dot product, with dot4I8Packed and with the
// plain fallback. Expected sums come from the unpacked values, summed in JavaScript integers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASELINE_PROFILE } from "../../plan/profile.js";
import { int8WordsPerRow, packInt8, packTernary, ternaryWordsPerRow } from "../../plan/bitnet.js";
import {
  PACKED_DOT_FEATURE,
  declareTernaryDot,
  emitTernaryRowDot,
} from "../../compiler/codegen/kernels/bitnet.js";
import { WgslBuilder, u32Literal as u } from "../../compiler/codegen/wgsl.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice, getNodeGPU } from "../../runtime/node/dawn.js";
import { createRng } from "../../runtime/random.js";

let gpu: MoecDevice;
let packedDotOffered = false;
beforeAll(async () => {
  gpu = await createNodeDevice();
  packedDotOffered = (await getNodeGPU()).wgslLanguageFeatures?.has(PACKED_DOT_FEATURE) ?? false;
});
afterAll(() => gpu?.device.destroy());

/** acc[r, o] = Σ_c q[r, c] · t[o, c] through the emitted WGSL. */
async function integerGemm(
  q: Uint32Array,
  t: Uint32Array,
  rows: number,
  outs: number,
  cols: number,
  packedDot: boolean,
): Promise<Int32Array> {
  const profile = {
    ...BASELINE_PROFILE,
    wgslLanguageFeatures: packedDot ? [PACKED_DOT_FEATURE] : [],
  };
  const b = new WgslBuilder(profile);
  declareTernaryDot(b, packedDot);
  b.storage("q", "u32", "read");
  b.storage("t", "u32", "read");
  b.storage("acc", "i32", "read_write");
  b.entryPoint(64, "@builtin(global_invocation_id) gid: vec3u", () => {
    b.line("let i = gid.x;");
    b.line(`if (i >= ${u(rows * outs)}) { return; }`);
    b.line(`let r = i / ${u(outs)};`);
    b.line(`let o = i % ${u(outs)};`);
    b.line("var s = 0i;");
    const tw = ternaryWordsPerRow(cols);
    emitTernaryRowDot(b, "s", "q", `r * ${u(int8WordsPerRow(cols))}`, "t", `o * ${u(tw)}`, tw);
    b.line("acc[i] = s;");
  });
  const { device } = gpu;
  const module = device.createShaderModule({ code: b.build().code });
  const info = await module.getCompilationInfo();
  expect(info.messages.filter((m) => m.type === "error").map((m) => m.message)).toEqual([]);
  const upload = (data: Uint32Array) => {
    const buf = device.createBuffer({
      size: Math.max(4, data.byteLength),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    device.queue.writeBuffer(buf, 0, data as Uint32Array<ArrayBuffer>);
    return buf;
  };
  const bytes = rows * outs * 4;
  const out = upload(new Uint32Array(rows * outs).fill(0x7fbadbad)); // poisoned
  const read = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module, entryPoint: "main" },
  });
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [upload(q), upload(t), out].map((buffer, binding) => ({
      binding,
      resource: { buffer },
    })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(Math.ceil((rows * outs) / 64));
  pass.end();
  enc.copyBufferToBuffer(out, 0, read, 0, bytes);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const result = new Int32Array(read.getMappedRange().slice(0));
  read.unmap();
  expect(gpu.errors).toEqual([]);
  return result;
}

function expectedSums(q: Int8Array, t: Int8Array, rows: number, outs: number, cols: number) {
  const acc = new Int32Array(rows * outs);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outs; o++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += q[r * cols + c]! * t[o * cols + c]!;
      acc[r * outs + o] = s;
    }
  return acc;
}

describe("ternary × int8 integer dot products on the GPU", () => {
  const shapes: [rows: number, outs: number, cols: number][] = [
    [3, 5, 16],
    [4, 7, 37],
    [2, 3, 1],
    [5, 9, 100],
  ];
  for (const packedDot of [false, true]) {
    for (const [rows, outs, cols] of shapes) {
      it(`is exact (${packedDot ? "dot4I8Packed" : "fallback"}, ${rows}x${cols} · ${outs}x${cols})`, async () => {
        if (packedDot && !packedDotOffered) return; // the fallback cases still run
        const rng = createRng(cols, rows * 31 + outs);
        const q = Int8Array.from({ length: rows * cols }, () => (rng.nextUint32() % 255) - 127);
        q[0] = -127; // the extremes of both ranges
        q[q.length - 1] = 127;
        const t = Int8Array.from({ length: outs * cols }, () => (rng.nextUint32() % 3) - 1);
        const got = await integerGemm(
          packInt8(q, rows, cols),
          packTernary(t, outs, cols),
          rows,
          outs,
          cols,
          packedDot,
        );
        expect(Array.from(got)).toEqual(Array.from(expectedSums(q, t, rows, outs, cols)));
      });
    }
  }

  it("reaches the largest sums exactly (all -127 against all -1, and against all 1)", async () => {
    const [rows, outs, cols] = [1, 2, 4096];
    const q = new Int8Array(cols).fill(-127);
    const t = Int8Array.from({ length: outs * cols }, (_, i) => (i < cols ? -1 : 1));
    for (const packedDot of packedDotOffered ? [false, true] : [false]) {
      const got = await integerGemm(
        packInt8(q, rows, cols),
        packTernary(t, outs, cols),
        rows,
        outs,
        cols,
        packedDot,
      );
      expect(Array.from(got)).toEqual([127 * 4096, -127 * 4096]);
    }
  });

  it("finds dot4I8Packed on this adapter (Dawn offers packed_4x8_integer_dot_product)", () => {
    expect(packedDotOffered).toBe(true);
  });
});
