// Runs a training plan on a GPUDevice. A step runs the step plan (forward, loss, backward)
// through a Session once per sequence of the batch and sums the gradients on the GPU, then runs
// the optimiser there: per-tensor sums of squares, the global-norm clip scale, and AdamW in place
// on the session's weight buffers, with m and v kept on the GPU. Every reduction has a fixed
// order, so equal seeds and batches give bitwise-equal weights. Imports plan/ and the runtime
// only. Browser-safe.
import {
  OPTIMIZER_HYPER_FIELDS,
  OPTIMIZER_WORKGROUP,
  TRAINING_PLAN_FORMAT,
  type TrainingPlan,
} from "../../plan/training.js";
import { SELECTION_BIAS } from "../../plan/weightNames.js";
import { STORAGE_USAGE, writeBuffer } from "../buffers.js";
import { MoecRunError } from "../errors.js";
import { type CompiledShader, compileShaders } from "../pipelines.js";
import { Session, type WeightData } from "../session.js";
import type { RoutingStats } from "../statistics.js";
import type { Sequence } from "./data.js";
import { type OptimizerConfig, checkOptimizerConfig, learningRate } from "./schedule.js";

export interface StepResult {
  /** The step number, 1-based. */
  readonly step: number;
  /** Mean over the batch of cross-entropy plus the balance terms, before the update. */
  readonly loss: number;
  /** Mean cross-entropy over the batch. */
  readonly ceLoss: number;
  readonly lr: number;
  /** Per routing site: experts that received at least one kept assignment over the batch. */
  readonly activeExperts: readonly SiteActivity[];
}

export interface SiteActivity {
  readonly scope: string;
  readonly active: number;
  readonly experts: number;
  /** Kept (sub-)token assignments per head and expert, summed over the batch. */
  readonly counts: readonly (readonly number[])[];
}

/**
 * One run of a training plan's step session on a sequence: its losses and routing, without an
 * update (a checkpoint's evaluation needs only this, not the optimiser's kernels).
 */
export async function evaluateSequence(
  session: Session,
  sequence: Sequence,
): Promise<{ loss: number; ceLoss: number; routing: readonly RoutingStats[] }> {
  if (sequence.ids.length !== sequence.targets.length)
    throw new MoecRunError(
      `ids (${sequence.ids.length}) and targets (${sequence.targets.length}) differ in length`,
    );
  const result = await session.run(
    new Map([
      ["ids", { shape: [sequence.ids.length], data: sequence.ids }],
      ["targets", { shape: [sequence.targets.length], data: sequence.targets }],
    ]),
    // The gradients stay on the GPU for the optimiser: only the losses come back.
    { outputs: ["loss", "ce_loss"] },
  );
  return {
    loss: result.outputs.get("loss")!.data[0]!,
    ceLoss: result.outputs.get("ce_loss")!.data[0]!,
    routing: result.routing,
  };
}

interface Slot {
  readonly elements: number;
  readonly weight: GPUBuffer;
  /** The session's buffer id of the gradient (its GPU buffer exists once the session has run). */
  readonly grad: number;
  /** The batch's summed gradient, then Adam's moments. */
  readonly acc: GPUBuffer;
  readonly m: GPUBuffer;
  readonly v: GPUBuffer;
  readonly uniform: GPUBuffer;
}

type OptimizerShaders = { readonly [K in keyof TrainingPlan["optimizer"]]: CompiledShader };

export class Trainer {
  readonly plan: TrainingPlan;
  readonly session: Session;
  readonly config: OptimizerConfig;
  readonly #device: GPUDevice;
  readonly #shaders: OptimizerShaders;
  readonly #slots: Slot[];
  readonly #partials: GPUBuffer;
  readonly #hyper: GPUBuffer;
  readonly #control: GPUBuffer;
  readonly #clip: GPUBuffer;
  readonly #countUniform: GPUBuffer;
  /** Each router's selection bias and a CPU copy of it: only the load rule moves it. */
  #selectionBiases?: {
    readonly scope: string;
    readonly slot: Slot;
    readonly values: Float32Array;
  }[];
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
    const zeros = (label: string, elements: number) => {
      const buffer = device.createBuffer({
        label,
        size: 4 * Math.max(4, elements),
        usage: STORAGE_USAGE(),
      });
      writeBuffer(device, buffer, new Float32Array(Math.max(4, elements)));
      return buffer;
    };
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
      return {
        elements: p.elements,
        weight: session.gpuBuffer(weight.id),
        grad: grad.buffer,
        acc: zeros(`grad_sum.${p.name}`, p.elements),
        m: zeros(`adam.m.${p.name}`, p.elements),
        v: zeros(`adam.v.${p.name}`, p.elements),
        // OPTIMIZER_UNIFORM_FIELDS: elements, slot, decay, count.
        uniform: uniform([p.elements, slot, p.decay ? 1 : 0, count]),
      };
    });
    this.#partials = zeros("grad_norm.partials", count);
    this.#hyper = zeros("optimizer.hyper", OPTIMIZER_HYPER_FIELDS.length);
    this.#control = zeros("grad_sum.control", 2);
    this.#clip = zeros("grad_norm.clip", 2);
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
    const split = plan.step.buffers.find((b) => b.kind === "weight" && b.experts);
    if (split)
      throw new MoecRunError(
        `${split.name} is split across bindings (too large for one); training updates each weight in one buffer`,
      );
    const session = await Session.create(device, plan.step, weights);
    const names = Object.keys(plan.optimizer) as (keyof TrainingPlan["optimizer"])[];
    const compiled = await compileShaders(device, {
      ...plan.step,
      shaders: names.map((n) => plan.optimizer[n]),
      kernels: [],
    });
    const shaders = Object.fromEntries(names.map((n, i) => [n, compiled[i]!])) as OptimizerShaders;
    return new Trainer(device, plan, session, config, shaders);
  }

  get stepsTaken(): number {
    return this.#step;
  }

  /** One optimiser step on a batch of sequences (token ids and next-token targets). */
  async step(batch: readonly Sequence[]): Promise<StepResult> {
    if (batch.length === 0) throw new MoecRunError("a training batch needs at least one sequence");
    const t = this.#step + 1;
    let loss = 0;
    let ceLoss = 0;
    const received = new Map<string, number[][]>();
    for (const [b, sequence] of batch.entries()) {
      const result = await this.#run(sequence);
      loss += result.loss / batch.length;
      ceLoss += result.ceLoss / batch.length;
      for (const site of result.routing) {
        const sum = received.get(site.scope) ?? site.counts.map((head) => head.map(() => 0));
        site.counts.forEach((head, h) => head.forEach((c, e) => (sum[h]![e]! += c)));
        received.set(site.scope, sum);
      }
      writeBuffer(this.#device, this.#control, Float32Array.of(1 / batch.length, b === 0 ? 1 : 0));
      this.#dispatch((d) => {
        for (const s of this.#slots) {
          const grad = this.session.gpuBuffer(s.grad);
          d(this.#shaders.accumulate, [grad, this.#control, s.acc, s.uniform], s.elements);
        }
      });
    }
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
    const values = Float32Array.from(OPTIMIZER_HYPER_FIELDS, (f) => hyper[f]);
    writeBuffer(this.#device, this.#hyper, values);
    this.#dispatch((d) => {
      const { sumSquares, clipScale, adamw } = this.#shaders;
      for (const s of this.#slots) d(sumSquares, [s.acc, this.#partials, s.uniform], 0);
      d(clipScale, [this.#partials, this.#hyper, this.#clip, this.#countUniform], 0);
      for (const s of this.#slots) {
        d(adamw, [s.acc, this.#hyper, this.#clip, s.weight, s.m, s.v, s.uniform], s.elements);
      }
    });
    await this.#balanceSelectionBiases(received);
    this.#step = t;
    const activeExperts = [...received].map(([scope, counts]) => {
      const experts = counts[0]?.length ?? 0;
      const got = Array.from({ length: experts }, (_, e) => counts.some((head) => head[e]! > 0));
      return { scope, active: got.filter(Boolean).length, experts, counts };
    });
    return { step: t, loss, ceLoss, lr, activeExperts };
  }

  /** The losses and routing of one sequence under the current weights, without an update. */
  async evaluate(
    sequence: Sequence,
  ): Promise<{ loss: number; ceLoss: number; routing: readonly RoutingStats[] }> {
    return this.#run(sequence);
  }

  /** The current weights, read back from the GPU, by name. */
  async weights(): Promise<Map<string, Float32Array>> {
    const data = await this.#readAll(this.#slots.map((s) => [s.weight, s.elements] as const));
    return new Map(this.plan.params.map((p, i) => [p.name, data[i]!]));
  }

  /** Adam's moments by weight name, read back from the GPU (for checkpoints). */
  async moments(): Promise<{ m: Map<string, Float32Array>; v: Map<string, Float32Array> }> {
    const data = await this.#readAll(
      (["m", "v"] as const).flatMap((key) => this.#slots.map((s) => [s[key], s.elements] as const)),
    );
    const [m, v] = [data.slice(0, this.#slots.length), data.slice(this.#slots.length)];
    const named = (data: Float32Array[]) =>
      new Map(this.plan.params.map((p, i) => [p.name, data[i]!]));
    return { m: named(m), v: named(v) };
  }

  /** Continues a run: Adam's moments by weight name and the number of steps already taken. */
  restore(
    stepsTaken: number,
    m: ReadonlyMap<string, Float32Array>,
    v: ReadonlyMap<string, Float32Array>,
  ): void {
    this.plan.params.forEach((p, i) => {
      const slot = this.#slots[i]!;
      for (const [moment, buffer] of [
        [m, slot.m],
        [v, slot.v],
      ] as const) {
        const data = moment.get(p.name);
        if (!data || data.length !== p.elements)
          throw new MoecRunError(`optimiser state of ${p.name} is missing or of the wrong size`);
        writeBuffer(this.#device, buffer, data);
      }
    });
    this.#step = stepsTaken;
  }

  /** The global gradient norm of the last step, before clipping. */
  async gradNorm(): Promise<number> {
    return (await this.#readAll([[this.#clip, 1]]))[0]![0]!;
  }

  destroy(): void {
    for (const s of this.#slots) for (const b of [s.acc, s.m, s.v, s.uniform]) b.destroy();
    const own = [this.#partials, this.#hyper, this.#control, this.#clip, this.#countUniform];
    for (const b of own) b.destroy();
    this.session.destroy();
  }

  #run(sequence: Sequence) {
    return evaluateSequence(this.session, sequence);
  }

  /**
   * Encodes kernels in one compute pass and submits it. `elements` sizes an element-wise
   * dispatch (OPTIMIZER_WORKGROUP per workgroup); 0 means a single workgroup.
   */
  #dispatch(
    encode: (
      d: (shader: CompiledShader, buffers: readonly GPUBuffer[], elements: number) => void,
    ) => void,
  ): void {
    const device = this.#device;
    const encoder = device.createCommandEncoder({ label: "optimizer" });
    const pass = encoder.beginComputePass({ label: "optimizer" });
    encode((shader, buffers, elements) => {
      pass.setPipeline(shader.pipeline);
      const entries = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
      pass.setBindGroup(0, device.createBindGroup({ layout: shader.bindGroupLayout, entries }));
      const groups = elements === 0 ? 1 : Math.ceil(elements / OPTIMIZER_WORKGROUP);
      const x = Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    });
    pass.end();
    device.queue.submit([encoder.finish()]);
  }

  /** The first `elements` f32 values of each buffer, copied into one staging buffer and mapped once. */
  /**
   * DeepSeek-V3's auxiliary-loss-free balancing: each router's selection bias falls by γ for an
   * expert that got more than the mean of the step's kept assignments and rises by γ for one
   * that got fewer. No gradient reaches the bias and AdamW does not decay it, so a CPU copy read
   * once stays exact.
   */
  async #balanceSelectionBiases(received: ReadonlyMap<string, number[][]>): Promise<void> {
    const gamma = this.config.biasUpdate;
    if (gamma === 0) return;
    if (!this.#selectionBiases) {
      const suffix = `.${SELECTION_BIAS}`;
      const found = this.plan.params.flatMap((p, i) =>
        p.name.endsWith(suffix)
          ? [{ scope: p.name.slice(0, -suffix.length), slot: this.#slots[i]! }]
          : [],
      );
      const values = await this.#readAll(found.map(({ slot }) => [slot.weight, slot.elements]));
      this.#selectionBiases = found.map((f, i) => ({ ...f, values: values[i]! }));
    }
    for (const bias of this.#selectionBiases) {
      const counts = received.get(bias.scope);
      if (!counts) continue;
      const load = Array.from(bias.values, (_, e) => counts.reduce((sum, h) => sum + h[e]!, 0));
      const mean = load.reduce((a, b) => a + b, 0) / load.length;
      load.forEach((l, e) => (bias.values[e]! += gamma * Math.sign(mean - l)));
      writeBuffer(this.#device, bias.slot.weight, bias.values);
    }
  }

  async #readAll(
    reads: readonly (readonly [buffer: GPUBuffer, elements: number])[],
  ): Promise<Float32Array[]> {
    const offsets: number[] = [];
    let bytes = 0;
    for (const [, elements] of reads) {
      offsets.push(bytes);
      bytes += 4 * elements;
    }
    const staging = this.#device.createBuffer({
      size: Math.max(4, bytes),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = this.#device.createCommandEncoder();
    reads.forEach(([buffer, elements], i) =>
      encoder.copyBufferToBuffer(buffer, 0, staging, offsets[i]!, 4 * elements),
    );
    this.#device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = staging.getMappedRange().slice(0);
    staging.unmap();
    staging.destroy();
    return reads.map(([, elements], i) => new Float32Array(all, offsets[i]!, elements));
  }
}
