// The optimiser's settings and the learning-rate schedule: linear warm-up, then cosine decay to
// a floor. Pure functions of the step, so a resumed run follows the same curve.

export interface OptimizerConfig {
  /** Peak learning rate, reached at the end of warm-up. */
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Decoupled (AdamW) weight decay of matrices, embeddings and routers. */
  readonly weightDecay: number;
  /** Steps of linear warm-up from lr / warmup to lr. */
  readonly warmup: number;
  /** Total steps; the cosine reaches minLr at the last one. */
  readonly steps: number;
  /** The floor of the decay as a fraction of lr. */
  readonly minLrRatio: number;
  /** Gradients are scaled down so that their global L2 norm is at most this. */
  readonly maxGradNorm: number;
  /**
   * γ of DeepSeek-V3's auxiliary-loss-free balancing (arXiv 2412.19437, section 2.1.2): after
   * each step a router's selection bias falls by γ for each expert loaded above the mean and
   * rises by γ for each below it. 0 leaves the biases as they are.
   */
  readonly biasUpdate: number;
}

export const DEFAULT_OPTIMIZER: Omit<OptimizerConfig, "lr" | "steps"> = {
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  weightDecay: 0.1,
  warmup: 10,
  minLrRatio: 0.1,
  maxGradNorm: 1,
  biasUpdate: 0.001,
};

/** The learning rate of step t (1-based). */
export function learningRate(t: number, c: OptimizerConfig): number {
  if (t <= c.warmup) return (c.lr * t) / c.warmup;
  const decaySteps = Math.max(1, c.steps - c.warmup);
  const progress = Math.min(1, (t - c.warmup) / decaySteps);
  const floor = c.lr * c.minLrRatio;
  return floor + 0.5 * (c.lr - floor) * (1 + Math.cos(Math.PI * progress));
}

/** A clear message for settings no optimiser can use, or undefined when they are fine. */
export function checkOptimizerConfig(c: OptimizerConfig): string | undefined {
  const positive = (name: string, v: number) =>
    Number.isFinite(v) && v > 0 ? undefined : `${name} must be a positive number, got ${v}`;
  const unit = (name: string, v: number) =>
    Number.isFinite(v) && v >= 0 && v < 1 ? undefined : `${name} must be in [0, 1), got ${v}`;
  return (
    positive("learning rate", c.lr) ??
    unit("beta1", c.beta1) ??
    unit("beta2", c.beta2) ??
    positive("eps", c.eps) ??
    (Number.isFinite(c.weightDecay) && c.weightDecay >= 0
      ? undefined
      : `weight decay must be a non-negative number, got ${c.weightDecay}`) ??
    (Number.isInteger(c.warmup) && c.warmup >= 0
      ? undefined
      : `warm-up must be a whole number of steps, got ${c.warmup}`) ??
    (Number.isInteger(c.steps) && c.steps >= 1
      ? undefined
      : `steps must be a positive whole number, got ${c.steps}`) ??
    unit("minimum learning-rate ratio", c.minLrRatio) ??
    positive("gradient clipping norm", c.maxGradNorm) ??
    (Number.isFinite(c.biasUpdate) && c.biasUpdate >= 0
      ? undefined
      : `the selection-bias update must be a non-negative number, got ${c.biasUpdate}`)
  );
}
