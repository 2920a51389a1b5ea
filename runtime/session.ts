// Runs a compiled plan on a GPUDevice: weights uploaded once, pipelines compiled once (cached by
// WGSL text per device), one command encoder per run, outputs and routing statistics read back.
// The parts live by concept: planCheck (plan vs device), weightUpload, pipelines, inputs,
// readback, timing, statistics. Browser-safe: no Node imports.
import type { DimBindings } from "../plan/dims.js";
import type { Plan, PlanBuffer } from "../plan/format.js";
import { evalSize } from "../plan/size.js";
import { STORAGE_USAGE, writeBuffer } from "./buffers.js";
import { MoecRunError, formatDims } from "./errors.js";
import { type TensorData, bindInputs, checkWantedValues, paramValues } from "./inputs.js";
import { type CompiledShader, compileShaders } from "./pipelines.js";
import { checkBudget } from "./budget.js";
import { checkWeightsFinite } from "./finite.js";
import { checkPlan } from "./planCheck.js";
import { Readback } from "./readback.js";
import type { RoutingStats } from "./statistics.js";
import { type KernelTiming, KernelTimestamps, hostTimings } from "./timing.js";
import { type WeightData, resolveWeights, uploadWeights } from "./weightUpload.js";

// The public API of the runtime, from one module.
export { MoecRunError, ShaderCompileError } from "./errors.js";
export type { TensorData } from "./inputs.js";
export { annotateSource } from "./pipelines.js";
export type { RoutingStats } from "./statistics.js";
export type { KernelTiming } from "./timing.js";
export type { WeightData } from "./weightUpload.js";

export interface RunResult {
  readonly outputs: ReadonlyMap<string, TensorData>;
  readonly routing: readonly RoutingStats[];
  /** Intermediate values asked for with RunOptions.values (they must be kept by the plan). */
  readonly values: ReadonlyMap<number, TensorData>;
  /** Per-kernel times, in plan order, when the run was asked for them (RunOptions.profile). */
  readonly timings?: readonly KernelTiming[];
}

export interface SessionOptions {
  /** Where warnings go (unused weights); default console.warn. */
  readonly warn?: (message: string) => void;
}

export interface RunOptions {
  /**
   * Fill each kernel's output buffers with NaN bits right before it runs, so elements it fails to
   * write show up even where a buffer is reused (tests; slower: one compute pass per kernel).
   */
  readonly poison?: boolean;
  /** IR value ids to read back besides the outputs. */
  readonly values?: readonly number[];
  /** The outputs to read back, by name (default: all of them). */
  readonly outputs?: readonly string[];
  /** Outputs to read back as their last row only, [1, ...] (a generator's logits). */
  readonly lastRow?: readonly string[];
  /**
   * Time every kernel (RunResult.timings): with timestamp queries where the device has the
   * `timestamp-query` feature (each kernel in its own compute pass), else by running each kernel
   * again in its own submission after the run. Slower; for benchmarks.
   */
  readonly profile?: boolean;
}

/** f32 NaN with a recognisable payload; as i32 it is a huge positive id, never a valid expert. */
export const POISON_BITS = 0x7fbadbad;

export class Session {
  readonly plan: Plan;
  readonly #device: GPUDevice;
  readonly #compiled: readonly CompiledShader[];
  /** GPU buffers by plan buffer id; activations and inputs grow with the runtime dims. */
  readonly #buffers: (GPUBuffer | undefined)[];
  readonly #bindGroups: (GPUBindGroup | undefined)[];
  #queue: Promise<unknown> = Promise.resolve();
  #poisonBuffer: GPUBuffer | undefined;
  /** Buffers of another session this one uses (Session.sibling); never destroyed here. */
  #borrowed = new Set<GPUBuffer>();
  #lost: GPUDeviceLostInfo | undefined;

  private constructor(
    device: GPUDevice,
    plan: Plan,
    compiled: CompiledShader[],
    buffers: (GPUBuffer | undefined)[],
  ) {
    this.#device = device;
    this.plan = plan;
    this.#compiled = compiled;
    this.#buffers = buffers;
    this.#bindGroups = plan.kernels.map(() => undefined);
    void device.lost.then((info) => (this.#lost = info));
  }

  /**
   * Validates and uploads the weights (stacked `{e}` tensors may come as per-expert tensors,
   * `bank.3.fc1.weight` being slice 3 of `bank.{e}.fc1.weight`) and compiles every kernel.
   */
  static async create(
    device: GPUDevice,
    plan: Plan,
    weights: ReadonlyMap<string, WeightData>,
    options: SessionOptions = {},
  ): Promise<Session> {
    checkPlan(device, plan);
    checkBudget(plan, device.limits);
    checkWeightsFinite(weights);
    const data = resolveWeights(plan, weights, options.warn ?? ((m) => console.warn(m)));
    const compiled = await compileShaders(device, plan);
    const buffers = await uploadWeights(device, plan, data);
    return new Session(device, plan, compiled, buffers);
  }

  /**
   * A session of another plan of the same model (a decoding plan compiled for T = 1) that uses
   * this session's weight and state buffers, matched by name, kind and size: nothing is uploaded
   * again, and both see one KV cache. The shared buffers stay this session's to destroy.
   */
  async sibling(plan: Plan): Promise<Session> {
    const device = this.#device;
    checkPlan(device, plan);
    const own = new Map(
      this.plan.buffers.flatMap((b) => {
        const key = sharedBufferKey(b);
        return key === undefined ? [] : [[key, b.id] as const];
      }),
    );
    const shared = plan.buffers.map((b) => {
      const key = sharedBufferKey(b);
      if (key === undefined) return undefined;
      const id = own.get(key);
      if (id === undefined)
        throw new MoecRunError(
          `${plan.name} has ${b.kind} ${b.name}, which ${this.plan.name} lacks`,
        );
      return this.#buffers[id]!;
    });
    const compiled = await compileShaders(device, plan);
    const ids = new Set(shared.flatMap((b, i) => (b ? [i] : [])));
    const buffers = await uploadWeights(device, plan, new Map(), ids);
    const session = new Session(
      device,
      plan,
      compiled,
      buffers.map((b, i) => shared[i] ?? b),
    );
    session.#borrowed = new Set(shared.filter((b): b is GPUBuffer => b !== undefined));
    return session;
  }

  /** Runs the plan; runs of one session are serialised (they share buffers). */
  run(inputs: ReadonlyMap<string, TensorData>, options: RunOptions = {}): Promise<RunResult> {
    const result = this.#queue.then(() => this.#run(inputs, options));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /**
   * The GPU buffer of plan buffer `id` (a weight, or an activation once a run has sized it): the
   * trainer updates weights in place and reads gradients where they are.
   */
  gpuBuffer(id: number): GPUBuffer {
    const buffer = this.#buffers[id];
    if (!buffer) throw new MoecRunError(`plan buffer ${id} has no GPU buffer yet (run first)`);
    return buffer;
  }

  destroy(): void {
    for (const b of this.#buffers) if (b && !this.#borrowed.has(b)) b.destroy();
    this.#poisonBuffer?.destroy();
    this.#buffers.fill(undefined);
  }

  async #run(inputs: ReadonlyMap<string, TensorData>, options: RunOptions): Promise<RunResult> {
    const { plan } = this;
    const device = this.#device;
    this.#checkAlive();
    const dims = bindInputs(plan, inputs);
    const wanted = checkWantedValues(plan, options.values ?? []);
    await this.#ensureBuffers(dims);

    writeBuffer(device, this.#buffers[0]!, paramValues(plan, dims));
    for (const input of plan.inputs) {
      const t = inputs.get(input.name)!;
      writeBuffer(device, this.#buffers[input.buffer]!, t.data);
    }
    const poison = options.poison ? this.#poisonSource() : undefined;

    // Read-back regions and timestamps, packed into one staging buffer.
    const readback = new Readback(plan, dims, wanted, {
      names: checkOutputNames(plan, options.outputs),
      lastRow: checkOutputNames(plan, options.lastRow),
    });
    const timestamps = options.profile
      ? KernelTimestamps.create(device, plan, readback.bytes)
      : undefined;
    const stagingBytes = timestamps ? timestamps.offset + timestamps.bytes : readback.bytes;

    const staging = device.createBuffer({
      label: `${plan.name} readback`,
      size: Math.max(4, stagingBytes),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      const filters: GPUErrorFilter[] = ["internal", "out-of-memory", "validation"];
      for (const f of filters) device.pushErrorScope(f);
      const encoder = device.createCommandEncoder({ label: plan.name });
      let pass = encoder.beginComputePass({ label: plan.name });
      plan.kernels.forEach((k, i) => {
        if (poison || timestamps) {
          pass.end();
          if (poison)
            for (const b of this.#writtenBuffers(i))
              encoder.copyBufferToBuffer(poison, 0, b, 0, b.size);
          pass = encoder.beginComputePass({
            label: k.name,
            ...(timestamps && { timestampWrites: timestamps.passWrites(i) }),
          });
        }
        this.#encodeKernel(pass, i, dims);
      });
      pass.end();
      readback.copy(encoder, this.#buffers, staging);
      timestamps?.resolve(encoder, staging);
      device.queue.submit([encoder.finish()]);
      const errors = await Promise.all(filters.map(() => device.popErrorScope()));
      const error = errors.find((e) => e !== null);
      if (error) throw await this.#explain(error, dims);

      try {
        await staging.mapAsync(GPUMapMode.READ);
      } catch (err) {
        // A lost device rejects the map; give its `lost` promise a turn to say why.
        await Promise.race([device.lost, new Promise((resolve) => setTimeout(resolve, 0))]);
        this.#checkAlive();
        throw new MoecRunError(`reading results of ${plan.name} failed: ${(err as Error).message}`);
      }
      const bytes = staging.getMappedRange().slice(0);
      staging.unmap();
      let timings: readonly KernelTiming[] | undefined;
      if (timestamps) timings = timestamps.read(bytes);
      else if (options.profile) {
        timings = await hostTimings(device, plan, (pass, i) => this.#encodeKernel(pass, i, dims));
        this.#checkAlive();
      }
      return { ...readback.results(bytes), ...(timings && { timings }) };
    } finally {
      staging.destroy();
      timestamps?.destroy();
    }
  }

  /** Pipeline, bind group and workgroups of kernel i into a compute pass. */
  #encodeKernel(pass: GPUComputePassEncoder, kernel: number, dims: DimBindings): void {
    pass.setPipeline(this.#compiled[this.plan.kernels[kernel]!.shader]!.pipeline);
    pass.setBindGroup(0, this.#bindGroup(kernel));
    const [x, y] = this.#workgroups(kernel, dims);
    if (x > 0) pass.dispatchWorkgroups(x, y);
  }

  #checkAlive(): void {
    if (this.#lost) {
      throw new MoecRunError(
        `device lost (${this.#lost.reason}) running ${this.plan.name}: ${this.#lost.message}`,
      );
    }
  }

  /** (Re)allocates inputs and activations for these dims; bind groups follow new buffers. */
  async #ensureBuffers(dims: DimBindings): Promise<void> {
    const device = this.#device;
    const maxBinding = device.limits.maxStorageBufferBindingSize;
    device.pushErrorScope("out-of-memory");
    const grown: PlanBuffer[] = [];
    for (const b of this.plan.buffers) {
      if (b.kind !== "input" && b.kind !== "activation") continue;
      const bytes = Math.max(4, evalSize(b.bytes, dims));
      if (bytes > maxBinding) {
        const what =
          b.kind === "input"
            ? `input '${b.name}'`
            : `activation buffer ${b.name} (values ${b.values.map((v) => `%${v}`).join(" ")})`;
        throw new MoecRunError(
          `${what} needs ${bytes} bytes at ${formatDims(dims)}; this device binds at most ${maxBinding} bytes per buffer`,
        );
      }
      const current = this.#buffers[b.id];
      if (current && current.size >= bytes) continue;
      current?.destroy();
      this.#buffers[b.id] = device.createBuffer({
        label: b.name,
        size: bytes,
        usage: STORAGE_USAGE(),
      });
      grown.push(b);
    }
    const oom = await device.popErrorScope();
    if (oom) {
      throw new MoecRunError(
        `out of memory allocating ${grown.map((b) => b.name).join(", ")} at ${formatDims(dims)}: ${oom.message}`,
      );
    }
    if (grown.length > 0) {
      const changed = new Set(grown.map((b) => b.id));
      this.plan.kernels.forEach((k, i) => {
        if (k.bindings.some((b) => changed.has(b.buffer))) this.#bindGroups[i] = undefined;
      });
    }
  }

  #bindGroup(kernel: number): GPUBindGroup {
    const k = this.plan.kernels[kernel]!;
    this.#bindGroups[kernel] ??= this.#device.createBindGroup({
      label: k.name,
      layout: this.#compiled[k.shader]!.bindGroupLayout,
      entries: k.bindings.map((b) => ({
        binding: b.binding,
        resource: { buffer: this.#buffers[b.buffer]! },
      })),
    });
    return this.#bindGroups[kernel]!;
  }

  /** Workgroup counts, 2-D when one dimension would exceed the device limit. */
  #workgroups(kernel: number, dims: DimBindings): [number, number] {
    const k = this.plan.kernels[kernel]!;
    const groups = Math.ceil(evalSize(k.dispatch.items, dims) / k.dispatch.perWorkgroup);
    const max = this.#device.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(groups, max);
    const y = Math.ceil(groups / Math.max(1, x));
    if (y > max)
      throw new MoecRunError(
        `kernel ${k.name} needs ${groups} workgroups at ${formatDims(dims)}`,
        k.name,
      );
    return [x, y];
  }

  /** A buffer of NaN bits as large as the largest activation buffer (grown on demand). */
  #poisonSource(): GPUBuffer {
    const size = Math.max(4, ...this.#writtenBuffersOfAll().map((b) => b.size));
    if (!this.#poisonBuffer || this.#poisonBuffer.size < size) {
      this.#poisonBuffer?.destroy();
      this.#poisonBuffer = this.#device.createBuffer({
        label: "poison",
        size,
        usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      writeBuffer(this.#device, this.#poisonBuffer, new Uint32Array(size / 4).fill(POISON_BITS));
    }
    return this.#poisonBuffer;
  }

  /**
   * The buffers kernel i writes (its read-write storage bindings), less states: a KV cache is
   * written in place and must keep what earlier runs wrote.
   */
  #writtenBuffers(kernel: number): GPUBuffer[] {
    const k = this.plan.kernels[kernel]!;
    const layout = this.plan.shaders[k.shader]!.layout;
    return k.bindings
      .filter((b) => layout.find((e) => e.binding === b.binding)?.type === "storage")
      .filter((b) => this.plan.buffers[b.buffer]!.kind !== "state")
      .map((b) => this.#buffers[b.buffer]!);
  }

  #writtenBuffersOfAll(): GPUBuffer[] {
    return this.plan.kernels.flatMap((_, i) => this.#writtenBuffers(i));
  }

  /** Finds the kernel behind a run error by validating each dispatch alone (nothing is submitted). */
  async #explain(error: GPUError, dims: DimBindings): Promise<MoecRunError> {
    this.#checkAlive();
    const device = this.#device;
    for (const [i, k] of this.plan.kernels.entries()) {
      device.pushErrorScope("validation");
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(this.#compiled[k.shader]!.pipeline);
      pass.setBindGroup(0, this.#bindGroup(i));
      pass.dispatchWorkgroups(...this.#workgroups(i, dims));
      pass.end();
      encoder.finish();
      const e = await device.popErrorScope();
      if (e) return new MoecRunError(`kernel ${k.name}: ${e.message}`, k.name);
    }
    return new MoecRunError(`running ${this.plan.name} failed: ${error.message}`);
  }
}

/** The asked-for outputs as a set, each checked to be one of the plan's. */
function checkOutputNames(
  plan: Plan,
  names: readonly string[] | undefined,
): ReadonlySet<string> | undefined {
  if (names === undefined) return undefined;
  const known = new Set(plan.outputs.map((o) => o.name));
  const unknown = names.find((n) => !known.has(n));
  if (unknown !== undefined)
    throw new MoecRunError(
      `${plan.name} has no output '${unknown}'; its outputs are ${[...known].join(", ")}`,
    );
  return new Set(names);
}

/**
 * What identifies a weight or state buffer across plans of one model: kind, name, size, and for
 * a part of a split expert bank its experts (the parts share the name and often the size).
 */
function sharedBufferKey(b: PlanBuffer): string | undefined {
  if (b.kind === "state") return `state ${b.name} ${b.bytes.coef}`;
  if (b.kind !== "weight") return undefined;
  return `weight ${b.name} ${b.bytes.coef} ${b.experts?.join("-") ?? "all"}`;
}
