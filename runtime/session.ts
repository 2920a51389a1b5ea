// Runs a compiled plan on a GPUDevice: weights uploaded once, pipelines compiled once (cached by
// WGSL text per device), one command encoder per run, outputs and routing statistics read back.
// Browser-safe: no Node imports.
import { expertCapacity } from "../plan/capacity.js";
import { type DimBindings, formatDim } from "../plan/dims.js";
import { PLAN_FORMAT, type Plan, type PlanBuffer, type PlanShader } from "../plan/format.js";
import { dimSize, evalSize } from "../plan/size.js";
import { expertWeightName, isStackedExpertName } from "../plan/weightNames.js";

export interface TensorData {
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/** A weight by name: flat data (checked by element count) or data with its shape (checked). */
export type WeightData =
  Float32Array | { readonly shape: readonly number[]; readonly data: Float32Array };

export interface RoutingStats {
  readonly scope: string;
  readonly experts: number;
  readonly heads: number;
  readonly topK: number;
  /** Kept (sub-)token assignments per head and expert, after any capacity limit. */
  readonly counts: readonly (readonly number[])[];
  /** Assignments dropped by the capacity limit, per head. */
  readonly dropped: readonly number[];
  /** First choices per expert (before capacity) and router probability sums per expert. */
  readonly top1: readonly number[];
  readonly probSum: readonly number[];
  /** Routed rows S: tokens times heads. */
  readonly tokensRouted: number;
  /** GShard load-balancing loss E · Σ_e f_e · P_e, f_e = top1[e] / S, P_e = probSum[e] / S. */
  readonly auxLoss: number;
  /** Experts that received at least one kept assignment, over all heads and per head. */
  readonly activeExperts: number;
  readonly activeExpertsPerHead: readonly number[];
}

export interface RunResult {
  readonly outputs: ReadonlyMap<string, TensorData>;
  readonly routing: readonly RoutingStats[];
  /** Intermediate values asked for with RunOptions.values (they must be kept by the plan). */
  readonly values: ReadonlyMap<number, TensorData>;
  /** Per-kernel times, in plan order, when the run was asked for them (RunOptions.profile). */
  readonly timings?: readonly KernelTiming[];
}

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
  /**
   * Time every kernel (RunResult.timings): with timestamp queries where the device has the
   * `timestamp-query` feature (each kernel in its own compute pass), else by running each kernel
   * again in its own submission after the run. Slower; for benchmarks.
   */
  readonly profile?: boolean;
}

export class MoecRunError extends Error {
  /** The kernel that failed, when known. */
  readonly kernel: string | undefined;
  constructor(message: string, kernel?: string) {
    super(message);
    this.name = "MoecRunError";
    this.kernel = kernel;
  }
}

export class ShaderCompileError extends MoecRunError {
  constructor(kernel: string, annotatedSource: string) {
    super(`kernel ${kernel}: WGSL compilation failed\n${annotatedSource}`, kernel);
    this.name = "ShaderCompileError";
  }
}

/** f32 NaN with a recognisable payload; as i32 it is a huge positive id, never a valid expert. */
export const POISON_BITS = 0x7fbadbad;

interface Compiled {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
}

// Pipelines by WGSL text, per device; concurrent sessions share one compile.
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<Compiled>>>();

const STORAGE_USAGE = () =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

export class Session {
  readonly plan: Plan;
  readonly #device: GPUDevice;
  readonly #compiled: readonly Compiled[];
  /** GPU buffers by plan buffer id; activations and inputs grow with the runtime dims. */
  readonly #buffers: (GPUBuffer | undefined)[];
  readonly #bindGroups: (GPUBindGroup | undefined)[];
  #queue: Promise<unknown> = Promise.resolve();
  #poisonBuffer: GPUBuffer | undefined;
  #lost: GPUDeviceLostInfo | undefined;

  private constructor(
    device: GPUDevice,
    plan: Plan,
    compiled: Compiled[],
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
    if (plan.format !== PLAN_FORMAT) {
      throw new MoecRunError(
        `unsupported plan format '${String(plan.format)}' (expected ${PLAN_FORMAT})`,
      );
    }
    checkDevice(device, plan);
    const data = resolveWeights(plan, weights, options.warn ?? ((m) => console.warn(m)));
    const compiled = await compileShaders(device, plan);

    const buffers: (GPUBuffer | undefined)[] = plan.buffers.map(() => undefined);
    device.pushErrorScope("out-of-memory");
    for (const b of plan.buffers) {
      if (b.kind === "weight") {
        const values = data.get(b.id)!;
        const buffer = device.createBuffer({
          label: b.name,
          size: values.byteLength,
          usage: STORAGE_USAGE(),
        });
        write(device, buffer, values);
        buffers[b.id] = buffer;
      } else if (b.kind === "params") {
        const size = b.bytes.coef;
        buffers[b.id] = device.createBuffer({
          label: "params",
          size,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        });
      }
    }
    const oom = await device.popErrorScope();
    if (oom) {
      for (const b of buffers) b?.destroy();
      throw new MoecRunError(
        `out of memory while uploading the weights of ${plan.name}: ${oom.message}`,
      );
    }
    return new Session(device, plan, compiled, buffers);
  }

  /** Runs the plan; runs of one session are serialised (they share buffers). */
  run(inputs: ReadonlyMap<string, TensorData>, options: RunOptions = {}): Promise<RunResult> {
    const result = this.#queue.then(() => this.#run(inputs, options));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  destroy(): void {
    for (const b of this.#buffers) b?.destroy();
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

    write(device, this.#buffers[0]!, paramValues(plan, dims));
    for (const input of plan.inputs) {
      const t = inputs.get(input.name)!;
      write(device, this.#buffers[input.buffer]!, t.data);
    }
    const poison = options.poison ? this.#poisonSource() : undefined;

    // Read-back regions, packed into one staging buffer.
    const regions: { buffer: number; bytes: number; offset: number }[] = [];
    let stagingBytes = 0;
    const region = (buffer: number, bytes: number) => {
      regions.push({ buffer, bytes, offset: stagingBytes });
      stagingBytes += bytes;
      return regions.length - 1;
    };
    const outputRegions = plan.outputs.map((o) =>
      region(o.buffer, tensorBytes(plan, o.value, dims)),
    );
    const routingRegions = plan.routing.map((r) => {
      const [e, h] = [r.experts * 4, r.heads * 4];
      return [
        region(r.counts, e * r.heads),
        region(r.top1, e),
        region(r.probSum, e),
        region(r.dropped, h),
      ] as const;
    });
    const valueRegions = wanted.map((v) =>
      region(plan.values[v]!.buffer, tensorBytes(plan, v, dims)),
    );

    // Timestamps: a begin/end pair per kernel, resolved and read back with the outputs.
    const timestamps =
      options.profile && device.features.has("timestamp-query") && plan.kernels.length > 0
        ? {
            set: device.createQuerySet({ type: "timestamp", count: 2 * plan.kernels.length }),
            resolve: device.createBuffer({
              label: `${plan.name} timestamps`,
              size: 16 * plan.kernels.length,
              usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
            }),
            // 8-byte aligned for the BigUint64Array view.
            offset: Math.ceil(stagingBytes / 8) * 8,
          }
        : undefined;
    if (timestamps) stagingBytes = timestamps.offset + 16 * plan.kernels.length;

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
            ...(timestamps && {
              timestampWrites: {
                querySet: timestamps.set,
                beginningOfPassWriteIndex: 2 * i,
                endOfPassWriteIndex: 2 * i + 1,
              },
            }),
          });
        }
        pass.setPipeline(this.#compiled[k.shader]!.pipeline);
        pass.setBindGroup(0, this.#bindGroup(i));
        const [x, y] = this.#workgroups(i, dims);
        if (x > 0) pass.dispatchWorkgroups(x, y);
      });
      pass.end();
      for (const r of regions)
        encoder.copyBufferToBuffer(this.#buffers[r.buffer]!, 0, staging, r.offset, r.bytes);
      if (timestamps) {
        encoder.resolveQuerySet(timestamps.set, 0, 2 * plan.kernels.length, timestamps.resolve, 0);
        encoder.copyBufferToBuffer(
          timestamps.resolve,
          0,
          staging,
          timestamps.offset,
          16 * plan.kernels.length,
        );
      }
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
      let timings: KernelTiming[] | undefined;
      if (timestamps) {
        const ticks = new BigUint64Array(bytes, timestamps.offset, 2 * plan.kernels.length);
        timings = plan.kernels.map((k, i) => ({
          kernel: k.name,
          // Clocks may be coarse or, rarely, step backwards: never report a negative time.
          ms: Math.max(0, Number(ticks[2 * i + 1]! - ticks[2 * i]!) / 1e6),
          source: "gpu" as const,
        }));
      } else if (options.profile) {
        timings = await this.#cpuTimings(dims);
      }
      const slice = (index: number) => {
        const r = regions[index]!;
        return bytes.slice(r.offset, r.offset + r.bytes);
      };
      const readInt = (index: number) => new Int32Array(slice(index));
      const readFloat = (index: number) => new Float32Array(slice(index));
      const tensor = (value: number, index: number): TensorData => {
        const v = plan.values[value]!;
        return {
          shape: v.shape.map((d) => evalSize(dimSize(d), dims)),
          data: v.dtype === "i32" ? readInt(index) : readFloat(index),
        };
      };
      return {
        outputs: new Map(plan.outputs.map((o, i) => [o.name, tensor(o.value, outputRegions[i]!)])),
        routing: plan.routing.map((site, i) => {
          const [c, t, p, d] = routingRegions[i]!;
          return routingStats(
            site,
            evalSize(site.rows, dims),
            readInt(c),
            readInt(t),
            readFloat(p),
            readInt(d),
          );
        }),
        values: new Map(wanted.map((v, i) => [v, tensor(v, valueRegions[i]!)])),
        ...(timings && { timings }),
      };
    } finally {
      staging.destroy();
      timestamps?.set.destroy();
      timestamps?.resolve.destroy();
    }
  }

  /** Runs every kernel again, each in its own submission, and times it on the host. */
  async #cpuTimings(dims: DimBindings): Promise<KernelTiming[]> {
    const device = this.#device;
    const timings: KernelTiming[] = [];
    for (const [i, k] of this.plan.kernels.entries()) {
      const encoder = device.createCommandEncoder({ label: k.name });
      const pass = encoder.beginComputePass({ label: k.name });
      pass.setPipeline(this.#compiled[k.shader]!.pipeline);
      pass.setBindGroup(0, this.#bindGroup(i));
      const [x, y] = this.#workgroups(i, dims);
      if (x > 0) pass.dispatchWorkgroups(x, y);
      pass.end();
      const start = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      timings.push({ kernel: k.name, ms: performance.now() - start, source: "cpu" });
    }
    this.#checkAlive();
    return timings;
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
      write(this.#device, this.#poisonBuffer, new Uint32Array(size / 4).fill(POISON_BITS));
    }
    return this.#poisonBuffer;
  }

  /** The buffers kernel i writes (its read-write storage bindings). */
  #writtenBuffers(kernel: number): GPUBuffer[] {
    const k = this.plan.kernels[kernel]!;
    const layout = this.plan.shaders[k.shader]!.layout;
    return k.bindings
      .filter((b) => layout.find((e) => e.binding === b.binding)?.type === "storage")
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

// ---------------------------------------------------------------------------------------------

function write(
  device: GPUDevice,
  buffer: GPUBuffer,
  data: Float32Array | Int32Array | Uint32Array,
): void {
  // @webgpu/types wants ArrayBuffer-backed views; writeBuffer copies, so any view will do.
  device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
}

function checkDevice(device: GPUDevice, plan: Plan): void {
  const missing = plan.profile.features.filter((f) => !device.features.has(f));
  if (missing.length > 0) {
    throw new MoecRunError(
      `plan ${plan.name} was compiled for features this device lacks: ${missing.join(", ")}`,
    );
  }
  const limit = device.limits.maxStorageBuffersPerShaderStage;
  for (const k of plan.kernels) {
    const storage = plan.shaders[k.shader]!.layout.filter((e) => e.type !== "uniform").length;
    if (storage > limit) {
      throw new MoecRunError(
        `kernel ${k.name} binds ${storage} storage buffers; this device allows ${limit}`,
        k.name,
      );
    }
  }
}

function resolveWeights(
  plan: Plan,
  weights: ReadonlyMap<string, WeightData>,
  warn: (message: string) => void,
): Map<number, Float32Array> {
  const used = new Set<string>();
  const problems: string[] = [];
  const out = new Map<number, Float32Array>();
  for (const b of plan.buffers) {
    if (b.kind !== "weight") continue;
    const direct = weights.get(b.name);
    if (direct !== undefined) {
      used.add(b.name);
      const data = checkWeight(b.name, direct, b.shape, problems);
      if (data) out.set(b.id, data);
      continue;
    }
    if (!isStackedExpertName(b.name)) {
      problems.push(`missing weight ${b.name} [${b.shape.join(", ")}]`);
      continue;
    }
    // Assemble a stacked expert tensor from its per-expert slices.
    const [experts, ...slice] = b.shape;
    const sliceSize = slice.reduce((a, c) => a * c, 1);
    const stacked = new Float32Array(experts! * sliceSize);
    for (let e = 0; e < experts!; e++) {
      const name = expertWeightName(b.name, e);
      const t = weights.get(name);
      if (t === undefined) {
        problems.push(
          `missing weight ${name} [${slice.join(", ")}] (or all experts stacked as ${b.name} [${b.shape.join(", ")}])`,
        );
        continue;
      }
      used.add(name);
      const data = checkWeight(name, t, slice, problems);
      if (data) stacked.set(data, e * sliceSize);
    }
    out.set(b.id, stacked);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join("\n  ");
    const more = problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : "";
    throw new MoecRunError(`weights do not fit model ${plan.name}:\n  ${shown}${more}`);
  }
  const extra = [...weights.keys()].filter((n) => !used.has(n)).sort();
  if (extra.length > 0) {
    const listed =
      extra.slice(0, 5).join(", ") + (extra.length > 5 ? `, ... (${extra.length} in all)` : "");
    warn(`ignoring weights that model ${plan.name} does not use: ${listed}`);
  }
  return out;
}

function checkWeight(
  name: string,
  w: WeightData,
  shape: readonly number[],
  problems: string[],
): Float32Array | undefined {
  const data = w instanceof Float32Array ? w : w.data;
  const expected = shape.reduce((a, c) => a * c, 1);
  if (!(data instanceof Float32Array)) {
    problems.push(`weight ${name} must be a Float32Array`);
    return undefined;
  }
  if (!(w instanceof Float32Array) && w.shape.join() !== shape.join()) {
    problems.push(
      `weight ${name} has shape [${w.shape.join(", ")}], expected [${shape.join(", ")}]`,
    );
    return undefined;
  }
  if (data.length !== expected) {
    problems.push(
      `weight ${name} has ${data.length} values, expected ${expected} for shape [${shape.join(", ")}]`,
    );
    return undefined;
  }
  return data;
}

async function compileShaders(device: GPUDevice, plan: Plan): Promise<Compiled[]> {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, (cache = new Map()));
  const pending = plan.shaders.map((shader, i) => {
    const kernel = plan.kernels.find((k) => k.shader === i)?.name ?? `shader ${i}`;
    let compiled = cache.get(shader.wgsl);
    if (!compiled) {
      compiled = compileShader(device, shader, kernel);
      cache.set(shader.wgsl, compiled);
      compiled.catch(() => cache.delete(shader.wgsl));
    }
    return compiled;
  });
  return Promise.all(pending);
}

/** The synchronous calls run inside one error scope each; the async results are awaited after. */
async function compileShader(
  device: GPUDevice,
  shader: PlanShader,
  kernel: string,
): Promise<Compiled> {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ label: kernel, code: shader.wgsl });
  const bindGroupLayout = device.createBindGroupLayout({
    label: kernel,
    entries: shader.layout.map((e) => ({
      binding: e.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: e.type },
    })),
  });
  const layout = device.createPipelineLayout({
    label: kernel,
    bindGroupLayouts: [bindGroupLayout],
  });
  const scope = device.popErrorScope();
  const pipeline = device.createComputePipelineAsync({
    label: kernel,
    layout,
    compute: { module, entryPoint: shader.entryPoint },
  });
  pipeline.catch(() => undefined); // reported below, with the source
  const info = await module.getCompilationInfo();
  if (info.messages.some((m) => m.type === "error")) {
    await scope;
    throw new ShaderCompileError(kernel, annotateSource(shader.wgsl, info.messages));
  }
  const error = await scope;
  if (error)
    throw new MoecRunError(
      `kernel ${kernel}: ${error.message}\n${annotateSource(shader.wgsl, [])}`,
      kernel,
    );
  try {
    return { pipeline: await pipeline, bindGroupLayout };
  } catch (err) {
    throw new MoecRunError(
      `kernel ${kernel}: pipeline creation failed: ${(err as Error).message}\n${annotateSource(shader.wgsl, [])}`,
      kernel,
    );
  }
}

/** Numbered source with a caret and the message under each line that has one. */
export function annotateSource(code: string, messages: readonly GPUCompilationMessage[]): string {
  const lines = code.replace(/\n$/, "").split("\n");
  const width = String(lines.length).length;
  const out: string[] = [];
  lines.forEach((line, i) => {
    out.push(`${String(i + 1).padStart(width)} | ${line}`);
    for (const m of messages) {
      if (m.lineNum !== i + 1) continue;
      out.push(
        `${" ".repeat(width)} | ${" ".repeat(Math.max(0, m.linePos - 1))}^ ${m.type}: ${m.message}`,
      );
    }
  });
  for (const m of messages.filter((m) => m.lineNum < 1 || m.lineNum > lines.length)) {
    out.push(`${m.type}: ${m.message}`);
  }
  return out.join("\n");
}

/** Checks names, dtypes and shapes of the inputs, binds the symbols, range-checks token ids. */
function bindInputs(plan: Plan, inputs: ReadonlyMap<string, TensorData>): DimBindings {
  const known = new Set(plan.inputs.map((i) => i.name));
  const unknown = [...inputs.keys()].filter((n) => !known.has(n));
  if (unknown.length > 0) {
    throw new MoecRunError(
      `unknown input ${unknown.map((n) => `'${n}'`).join(", ")}; ${plan.name} takes ${describeInputs(plan)}`,
    );
  }
  const dims: Record<string, number> = {};
  for (const input of plan.inputs) {
    const t = inputs.get(input.name);
    const expected = `${input.dtype}[${input.shape.map(formatDim).join(", ")}]`;
    if (!t) throw new MoecRunError(`missing input '${input.name}': ${expected}`);
    const arrayType = input.dtype === "i32" ? Int32Array : Float32Array;
    if (!(t.data instanceof arrayType)) {
      throw new MoecRunError(
        `input '${input.name}' must be ${expected} as a ${arrayType.name}, got a ${t.data.constructor.name}`,
      );
    }
    const bad = () =>
      new MoecRunError(
        `input '${input.name}' must be ${expected}, got shape [${t.shape.join(", ")}]`,
      );
    if (t.shape.length !== input.shape.length) throw bad();
    input.shape.forEach((d, i) => {
      const actual = t.shape[i]!;
      if (!Number.isInteger(actual) || actual < 1) throw bad();
      if (typeof d === "number") {
        if (d !== actual) throw bad();
        return;
      }
      if (actual % d.coef !== 0) throw bad();
      const value = actual / d.coef;
      if (dims[d.sym] !== undefined && dims[d.sym] !== value) {
        throw new MoecRunError(
          `input '${input.name}': ${d.sym} = ${value} disagrees with ${d.sym} = ${dims[d.sym]} from another input`,
        );
      }
      dims[d.sym] = value;
    });
    const count = t.shape.reduce((a, c) => a * c, 1);
    if (t.data.length !== count) {
      throw new MoecRunError(
        `input '${input.name}' has ${t.data.length} values for shape [${t.shape.join(", ")}] (${count})`,
      );
    }
    if (input.idLimit !== undefined) {
      const limit = input.idLimit;
      const at = t.data.findIndex((id) => !(id >= 0 && id < limit));
      if (at >= 0) {
        throw new MoecRunError(
          `token id ${t.data[at]} at position ${at} of input '${input.name}' is outside the vocabulary [0, ${limit})`,
        );
      }
    }
  }
  return dims;
}

function describeInputs(plan: Plan): string {
  return plan.inputs.map((i) => `'${i.name}'`).join(", ") || "no inputs";
}

function checkWantedValues(plan: Plan, values: readonly number[]): number[] {
  for (const v of values) {
    const entry = plan.values[v];
    if (!entry) throw new MoecRunError(`no value %${v} in plan ${plan.name}`);
    if (!entry.kept) {
      throw new MoecRunError(
        `value %${v} is overwritten during the run; build the plan with keep: [${v}] to read it`,
      );
    }
  }
  return [...values];
}

function paramValues(plan: Plan, dims: DimBindings): Uint32Array {
  const out = new Uint32Array(Math.max(4, Math.ceil(plan.params.length / 4) * 4));
  plan.params.forEach((p, i) => {
    const value =
      p.kind === "symbol"
        ? dims[p.symbol]!
        : expertCapacity(evalSize(p.rows, dims), p.topK, p.experts, p.factor);
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) {
      throw new MoecRunError(`runtime parameter ${p.field} = ${value} does not fit a u32`);
    }
    out[i] = value;
  });
  return out;
}

function tensorBytes(plan: Plan, value: number, dims: DimBindings): number {
  const v = plan.values[value]!;
  return 4 * v.shape.reduce<number>((n, d) => n * evalSize(dimSize(d), dims), 1);
}

function formatDims(dims: DimBindings): string {
  return (
    Object.entries(dims)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ") || "fixed sizes"
  );
}

function routingStats(
  site: Plan["routing"][number],
  rows: number,
  counts: Int32Array,
  top1: Int32Array,
  probSum: Float32Array,
  dropped: Int32Array,
): RoutingStats {
  const { experts, heads } = site;
  const perHead = Array.from({ length: heads }, (_, h) =>
    Array.from(counts.subarray(h * experts, (h + 1) * experts)),
  );
  const total = Array.from({ length: experts }, (_, e) =>
    perHead.reduce((s, row) => s + row[e]!, 0),
  );
  let aux = 0;
  for (let e = 0; e < experts; e++) aux += (top1[e]! / rows) * (probSum[e]! / rows);
  return {
    scope: site.scope,
    experts,
    heads,
    topK: site.topK,
    counts: perHead,
    dropped: Array.from(dropped),
    top1: Array.from(top1),
    probSum: Array.from(probSum),
    tokensRouted: rows,
    auxLoss: experts * aux,
    activeExperts: total.filter((c) => c > 0).length,
    activeExpertsPerHead: perHead.map((row) => row.filter((c) => c > 0).length),
  };
}
