// From a language model's lowered graph to a training plan: the training graph (forward, loss,
// backward) compiled like any graph (at -O2 the forward's MoE fusion carries over to the backward:
// passes/fuseMoeGrad.ts), plus the optimiser's shaders and the trained weights.
import { TRAINING_PLAN_FORMAT, type TrainingPlan } from "../../plan/training.js";
import { optimizerShaders } from "../codegen/kernels/optimizer.js";
import { BASELINE_PROFILE, type DeviceProfile } from "../codegen/profile.js";
import { compileGraph } from "../compile.js";
import { type Graph, weightNodes } from "../ir/graph.js";
import type { DimBindings } from "../ir/types.js";
import type { OptLevel } from "../passes/index.js";
import { type LossOptions, gradName, trainingGraph } from "./train.js";

export interface TrainingCompileOptions extends LossOptions {
  readonly profile?: DeviceProfile;
  /** Optimisation level of the step graph (default 2). */
  readonly level?: OptLevel;
  /** Fix T at compile time; default: symbolic, bound from the batch at run time. */
  readonly bindings?: DimBindings;
}

/** Weights AdamW decays: matrices, embeddings and routers; not norm weights or biases. */
const DECAYED = new Set(["linear", "embedding", "router"]);

export function compileTraining(
  forward: Graph,
  options: TrainingCompileOptions = {},
): TrainingPlan {
  const profile = options.profile ?? BASELINE_PROFILE;
  const graph = trainingGraph(forward, options);
  const level = options.level ?? 2;
  const { plan } = compileGraph(graph, { level, profile, bindings: options.bindings });
  return {
    format: TRAINING_PLAN_FORMAT,
    step: plan,
    params: weightNodes(graph).map((w) => ({
      name: w.attrs.name,
      grad: gradName(w.attrs.name),
      elements: (graph.values[w.outputs[0]!]!.type.shape as number[]).reduce((a, b) => a * b, 1),
      decay: DECAYED.has(w.attrs.init),
    })),
    optimizer: optimizerShaders(profile),
  };
}
