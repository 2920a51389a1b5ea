// The training plan: the plan of a model's training graph (forward, loss, backward) plus the
// optimiser's shaders and the weights it updates. The compiler writes it
// (compiler/autodiff/compileTraining.ts); the runtime's trainer (runtime/train/) runs it.
import type { Plan, PlanShader } from "./format.js";

/** Bumped whenever a training plan written by an older compiler would be read wrongly. */
export const TRAINING_PLAN_FORMAT = "moec-training-plan/1";

export interface TrainingPlan {
  readonly format: typeof TRAINING_PLAN_FORMAT;
  /**
   * One training step's graph: inputs `ids` and `targets` (i32[T]); outputs `loss`, `ce_loss`
   * (f32[1]) and `grad.NAME`, the gradient of each weight NAME.
   */
  readonly step: Plan;
  /** The trained weights; param i owns slot i of the optimiser's per-tensor buffers. */
  readonly params: readonly TrainedParam[];
  /**
   * Optimiser shaders, each with the uniform u32 { elements, slot, decay, count } last and the
   * f32 hyper-parameters of OPTIMIZER_HYPER_FIELDS in a storage buffer:
   * accumulate(grad, control, acc): acc = (control[1] != 0 ? 0 : acc) + control[0] · grad, the
   * batch's gradient summed sequence by sequence (control = [1 / batch, first]);
   * sumSquares(acc, partials): partials[slot] = Σ acc² in a fixed order (one workgroup);
   * clipScale(partials, hyper, clip): clip = [‖g‖, min(1, maxNorm / (‖g‖ + 1e-6))] over `count`;
   * adamw(acc, hyper, clip, weight, m, v): one AdamW step of one tensor. The element-wise ones
   * run OPTIMIZER_WORKGROUP elements per workgroup.
   */
  readonly optimizer: {
    readonly accumulate: PlanShader;
    readonly sumSquares: PlanShader;
    readonly clipScale: PlanShader;
    readonly adamw: PlanShader;
  };
}

export interface TrainedParam {
  /** Weight name (a weight buffer of `step`). */
  readonly name: string;
  /** The output of `step` holding its gradient. */
  readonly grad: string;
  readonly elements: number;
  /** AdamW's weight decay applies (matrices, embeddings, routers; not norms or biases). */
  readonly decay: boolean;
}

/** The f32 hyper-parameter buffer of the optimiser shaders, in order. */
export const OPTIMIZER_HYPER_FIELDS = [
  "lr",
  "beta1",
  "beta2",
  "eps",
  "weightDecay",
  "biasCorrection1",
  "biasCorrection2",
  "maxNorm",
] as const;

/** The u32 uniform fields of the optimiser shaders, in order. */
export const OPTIMIZER_UNIFORM_FIELDS = ["elements", "slot", "decay", "count"] as const;

/** Threads per workgroup of the optimiser's shaders. */
export const OPTIMIZER_WORKGROUP = 64;
