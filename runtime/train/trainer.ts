// Runs a training plan on a GPUDevice: each step runs the step plan (forward, loss, backward)
// through a Session, then the optimiser on the GPU: per-tensor sums of squares, the global-norm
// clip scale, and AdamW in place on the session's weight buffers, with m and v kept on the GPU.
// Every reduction has a fixed order, so equal seeds and batches give bitwise-equal weights.
// Imports plan/ and the runtime only. Browser-safe.
import {
  OPTIMIZER_HYPER_FIELDS,
  OPTIMIZER_WORKGROUP,
  TRAINING_PLAN_FORMAT,
  type TrainingPlan,
} from "../../plan/training.js";
import { STORAGE_USAGE, writeBuffer } from "../buffers.js";
import { MoecRunError } from "../errors.js";
import { type CompiledShader, compileShaders } from "../pipelines.js";
import { Session, type WeightData } from "../session.js";
import { type OptimizerConfig, checkOptimizerConfig, learningRate } from "./schedule.js";

export interface StepResult {
  /** The step number, 1-based. */
  readonly step: number;
  /** Cross-entropy plus the balance terms, before the update. */
  readonly loss: number;
  readonly ceLoss: number;
  readonly lr: number;
}

interface Slot {
  readonly elements: number;
  readonly weight: GPUBuffer;
  /** The session's buffer id of the gradient (its GPU buffer exists once the session has run). */
  readonly grad: number;
  readonly m: GPUBuffer;
  readonly v: GPUBuffer;
  readonly uniform: GPUBuffer;
}

interface OptimizerShaders {
  readonly sumSquares: CompiledShader;
  readonly clipScale: CompiledShader;
  readonly adamw: CompiledShader;
}

export class Trainer {
  readonly plan: TrainingPlan;
  readonly session: Session;
  readonly config: OptimizerConfig;
  readonly #device: GPUDevice;
  readonly #shaders: OptimizerShaders;
  readonly #slots: Slot[];
  readonly #partials: GPUBuffer;
  readonly #hyper: GPUBuffer;
  readonly #clip: GPUBuffer;
  readonly #countUniform: GPUBuffer;
  #step = 0;

  private constructor(
    device: GPUDevice,
    plan: TrainingPlan,
    session: Session,
    config: OptimizerConfig,
    shaders: OptimizerShaders,
  ) {
    this.#device = device;
    this.plan = plan;
    this.session = session;
    this.config = config;
    this.#shaders = shaders;
    const storage = (label: string, bytes: number) =>
      device.createBuffer({ label, size: Math.max(16, bytes), usage: STORAGE_USAGE() });
    const uniform = (values: readonly number[]) => {
      const buffer = device.createBuffer({
        size: 16,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      writeBuffer(device, buffer, Uint32Array.from(values));
      return buffer;
    };
    const count = plan.params.length;
    this.#slots = plan.params.map((p, slot) => {
      const weight = session.plan.buffers.find((b) => b.kind === "weight" && b.name === p.name);
      const grad = session.plan.outputs.find((o) => o.name === p.grad);
      if (!weight || !grad)
        throw new MoecRunError(`training plan: no weight buffer or gradient output for ${p.name}`);
      const zeros = (label: string) => {
        const buffer = storage(label, 4 * p.elements);
        writeBuffer(device, buffer, new Float32Array(Math.max(4, p.elements)));
        return buffer;
      };
      return {
        elements: p.elements,
        weight: session.gpuBuffer(weight.id),
        grad: grad.buffer,
        m: zeros(`adam.m.${p.name}`),
        v: zeros(`adam.v.${p.name}`),
        // OPTIMIZER_UNIFORM_FIELDS: elements, slot, decay, count.
        uniform: uniform([p.elements, slot, p.decay ? 1 : 0, count]),
      };
    });
    this.#partials = storage("grad_norm.partials", 4 * count);
    this.#hyper = storage("optimizer.hyper", 4 * OPTIMIZER_HYPER_FIELDS.length);
    this.#clip = storage("grad_norm.clip", 8);
    this.#countUniform = uniform([0, 0, 0, count]);
  }

  /** Uploads the initial weights (by name, as for a Session) and compiles every kernel. */
  static async create(
    device: GPUDevice,
    plan: TrainingPlan,
    weights: ReadonlyMap<string, WeightData>,
    config: OptimizerConfig,
  ): Promise<Trainer> {
    if (plan.format !== TRAINING_PLAN_FORMAT)
      throw new MoecRunError(
        `unsupported training plan format '${String(plan.format)}' (expected ${TRAINING_PLAN_FORMAT})`,
      );
    const problem = checkOptimizerConfig(config);
    if (problem) throw new MoecRunError(problem);
    const session = await Session.create(device, plan.step, weights);
    const { sumSquares, clipScale, adamw } = plan.optimizer;
    const compiled = await compileShaders(device, {
      ...plan.step,
      shaders: [sumSquares, clipScale, adamw],
      kernels: [],
    });
    const [s, c, a] = compiled as [CompiledShader, CompiledShader, CompiledShader];
    return new Trainer(device, plan, session, config, { sumSquares: s, clipScale: c, adamw: a });
  }

  get stepsTaken(): number {
    return this.#step;
  }

  /** One step on a batch of token ids and their next-token targets (i32, same length). */
  async step(ids: Int32Array, targets: Int32Array): Promise<StepResult> {
    if (ids.length !== targets.length)
      throw new MoecRunError(
        `ids (${ids.length}) and targets (${targets.length}) differ in length`,
      );
    const t = this.#step + 1;
    const result = await this.session.run(
      new Map([
        ["ids", { shape: [ids.length], data: ids }],
        ["targets", { shape: [targets.length], data: targets }],
      ]),
    );
    const loss = result.outputs.get("loss")!.data[0]!;
    const ceLoss = result.outputs.get("ce_loss")!.data[0]!;
    if (!Number.isFinite(loss))
      throw new MoecRunError(`step ${t}: the loss is ${loss}; lower the learning rate`);
    const c = this.config;
    const lr = learningRate(t, c);
    const hyper: Record<(typeof OPTIMIZER_HYPER_FIELDS)[number], number> = {
      lr,
      beta1: c.beta1,
      beta2: c.beta2,
      eps: c.eps,
      weightDecay: c.weightDecay,
      biasCorrection1: 1 - c.beta1 ** t,
      biasCorrection2: 1 - c.beta2 ** t,
      maxNorm: c.maxGradNorm,
    };
    writeBuffer(
      this.#device,
      this.#hyper,
      Float32Array.from(OPTIMIZER_HYPER_FIELDS, (f) => hyper[f]),
    );
    this.#update();
    this.#step = t;
    return { step: t, loss, ceLoss, lr };
  }

  /** The current weights, read back from the GPU, by name. */
  async weights(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    await Promise.all(
      this.plan.params.map(async (p, i) =>
        out.set(p.name, await this.#read(this.#slots[i]!.weight, p.elements)),
      ),
    );
    return new Map(this.plan.params.map((p) => [p.name, out.get(p.name)!]));
  }

  /** The global gradient norm of the last step, before clipping. */
  async gradNorm(): Promise<number> {
    return (await this.#read(this.#clip, 1))[0]!;
  }

  destroy(): void {
    for (const s of this.#slots) for (const b of [s.m, s.v, s.uniform]) b.destroy();
    for (const b of [this.#partials, this.#hyper, this.#clip, this.#countUniform]) b.destroy();
    this.session.destroy();
  }

  /** Sums of squares, the clip scale, then AdamW of every tensor, in one submission. */
  #update(): void {
    const device = this.#device;
    const encoder = device.createCommandEncoder({ label: "optimizer" });
    const pass = encoder.beginComputePass({ label: "optimizer" });
    const dispatch = (shader: CompiledShader, buffers: readonly GPUBuffer[], groups: number) => {
      pass.setPipeline(shader.pipeline);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          layout: shader.bindGroupLayout,
          entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
        }),
      );
      const x = Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    };
    const { sumSquares, clipScale, adamw } = this.#shaders;
    const grad = (s: Slot) => this.session.gpuBuffer(s.grad);
    for (const s of this.#slots) dispatch(sumSquares, [grad(s), this.#partials, s.uniform], 1);
    dispatch(clipScale, [this.#partials, this.#hyper, this.#clip, this.#countUniform], 1);
    for (const s of this.#slots) {
      const groups = Math.ceil(s.elements / OPTIMIZER_WORKGROUP);
      dispatch(adamw, [grad(s), this.#hyper, this.#clip, s.weight, s.m, s.v, s.uniform], groups);
    }
    pass.end();
    device.queue.submit([encoder.finish()]);
  }

  async #read(buffer: GPUBuffer, elements: number): Promise<Float32Array> {
    const bytes = 4 * elements;
    const staging = this.#device.createBuffer({
      size: Math.max(4, bytes),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.#device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    this.#device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const data = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    return data;
  }
}
