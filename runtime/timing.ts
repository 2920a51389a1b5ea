// Per-kernel times of a profiled run: GPU timestamp queries around each kernel's own compute
// pass where the device has `timestamp-query`, else each kernel submitted alone and timed on the
// host. Browser-safe.
import type { Plan } from "../plan/format.js";

/** How long one kernel of a profiled run took. */
export interface KernelTiming {
  readonly kernel: string;
  readonly ms: number;
  /**
   * "gpu": timestamp queries around the kernel's own compute pass; "cpu": wall time of the kernel
   * submitted alone and waited for (adapters without timestamp-query; includes submit overhead).
   */
  readonly source: "gpu" | "cpu";
}

/** A begin/end timestamp pair per kernel, resolved and read back with the run's results. */
export class KernelTimestamps {
  readonly #plan: Plan;
  readonly #set: GPUQuerySet;
  readonly #resolve: GPUBuffer;
  /** Where the ticks lie in the staging buffer (8-byte aligned for the BigUint64Array view). */
  readonly offset: number;
  readonly bytes: number;

  private constructor(device: GPUDevice, plan: Plan, stagingBytes: number) {
    this.#plan = plan;
    this.bytes = 16 * plan.kernels.length;
    this.#set = device.createQuerySet({ type: "timestamp", count: 2 * plan.kernels.length });
    this.#resolve = device.createBuffer({
      label: `${plan.name} timestamps`,
      size: this.bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.offset = Math.ceil(stagingBytes / 8) * 8;
  }

  /** Timestamps after `stagingBytes` of other read-back, or undefined where the device has none. */
  static create(device: GPUDevice, plan: Plan, stagingBytes: number): KernelTimestamps | undefined {
    if (!device.features.has("timestamp-query") || plan.kernels.length === 0) return undefined;
    return new KernelTimestamps(device, plan, stagingBytes);
  }

  /** The timestampWrites of kernel i's compute pass. */
  passWrites(i: number): GPUComputePassTimestampWrites {
    return {
      querySet: this.#set,
      beginningOfPassWriteIndex: 2 * i,
      endOfPassWriteIndex: 2 * i + 1,
    };
  }

  /** Resolves the queries into the staging buffer at `offset`. */
  resolve(encoder: GPUCommandEncoder, staging: GPUBuffer): void {
    const count = 2 * this.#plan.kernels.length;
    encoder.resolveQuerySet(this.#set, 0, count, this.#resolve, 0);
    encoder.copyBufferToBuffer(this.#resolve, 0, staging, this.offset, this.bytes);
  }

  read(staged: ArrayBuffer): KernelTiming[] {
    const ticks = new BigUint64Array(staged, this.offset, 2 * this.#plan.kernels.length);
    return this.#plan.kernels.map((k, i) => ({
      kernel: k.name,
      // Clocks may be coarse or, rarely, step backwards: never report a negative time.
      ms: Math.max(0, Number(ticks[2 * i + 1]! - ticks[2 * i]!) / 1e6),
      source: "gpu" as const,
    }));
  }

  destroy(): void {
    this.#set.destroy();
    this.#resolve.destroy();
  }
}

/** Runs every kernel again, each in its own submission, and times it on the host. */
export async function hostTimings(
  device: GPUDevice,
  plan: Plan,
  encodeKernel: (pass: GPUComputePassEncoder, kernel: number) => void,
): Promise<KernelTiming[]> {
  const timings: KernelTiming[] = [];
  for (const [i, k] of plan.kernels.entries()) {
    const encoder = device.createCommandEncoder({ label: k.name });
    const pass = encoder.beginComputePass({ label: k.name });
    encodeKernel(pass, i);
    pass.end();
    const start = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    timings.push({ kernel: k.name, ms: performance.now() - start, source: "cpu" });
  }
  return timings;
}
