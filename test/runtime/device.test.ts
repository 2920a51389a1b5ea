import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import type { MoecDevice } from "../../runtime/device.js";

// A real Dawn device (lavapipe on CI machines); no mocks.
describe("createNodeDevice", () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
    console.log(`adapter: ${moec.describeAdapter()}`);
  });
  afterAll(() => moec?.device.destroy());

  it("reports the adapter and enables what it offers", () => {
    const { adapter, features, limits, adapterInfo } = moec;
    expect(typeof adapterInfo.description).toBe("string");
    for (const f of ["shader-f16", "subgroups", "timestamp-query"]) {
      expect(features.has(f)).toBe(adapter.features.has(f));
    }
    expect(limits.maxStorageBuffersPerShaderStage).toBe(
      adapter.limits.maxStorageBuffersPerShaderStage,
    );
    expect(limits.maxComputeWorkgroupStorageSize).toBe(
      adapter.limits.maxComputeWorkgroupStorageSize,
    );
    expect(limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
    expect(moec.describeAdapter()).toContain(adapterInfo.vendor);
  });

  it("can ask for WebGPU defaults only", async () => {
    const plain = await createNodeDevice({ defaultsOnly: true });
    expect(plain.limits.maxStorageBuffersPerShaderStage).toBe(8);
    expect(plain.limits.maxComputeWorkgroupStorageSize).toBe(16384);
    expect(plain.features.has("shader-f16")).toBe(false);
    plain.device.destroy();
  });

  it("runs a compute kernel that doubles a buffer", async () => {
    const { device } = moec;
    const n = 1000;
    const input = Float32Array.from({ length: n }, (_, i) => i - 500.25);
    const module = device.createShaderModule({
      code: `
        @group(0) @binding(0) var<storage, read_write> data: array<f32>;
        @compute @workgroup_size(64)
        fn main(@builtin(global_invocation_id) id: vec3u) {
          if (id.x < arrayLength(&data)) { data[id.x] = 2.0 * data[id.x]; }
        }`,
    });
    const info = await module.getCompilationInfo();
    expect(info.messages.filter((m) => m.type === "error")).toEqual([]);
    const pipeline = device.createComputePipeline({
      layout: "auto",
      compute: { module, entryPoint: "main" },
    });
    const data = device.createBuffer({
      size: input.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    const readback = device.createBuffer({
      size: input.byteLength,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(data, 0, input);
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: data } }],
      }),
    );
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    encoder.copyBufferToBuffer(data, 0, readback, 0, input.byteLength);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    expect(Array.from(out)).toEqual(Array.from(input, (x) => 2 * x));
    expect(moec.errors).toEqual([]);
  });

  it("leaves global setImmediate alone and reads back under fake timers", async () => {
    const { device } = moec;
    const original = globalThis.setImmediate;
    vi.useFakeTimers();
    try {
      const buffer = device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4]));
      await buffer.mapAsync(GPUMapMode.READ);
      expect(new Float32Array(buffer.getMappedRange())).toEqual(new Float32Array([1, 2, 3, 4]));
      buffer.unmap();
    } finally {
      vi.useRealTimers();
    }
    expect(globalThis.setImmediate).toBe(original);
  });

  it("records uncaptured validation errors", async () => {
    const { device } = moec;
    const before = moec.errors.length;
    // Keep Dawn from also printing the (expected) error.
    const quiet = (event: Event) => event.preventDefault();
    device.addEventListener("uncapturederror", quiet);
    device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    await device.queue.onSubmittedWorkDone();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const added = moec.errors.slice(before);
    expect(added.length).toBe(1);
    expect(added[0]!.kind).toBe("validation");
    device.removeEventListener("uncapturederror", quiet);
    moec.errors.length = before;
  });
});
