// What a run needs, computed from the plan alone and checked before any weight is generated, read
// or uploaded (README, "Limits checked before a run"): every buffer within the device's binding
// and buffer limits, and weights plus activations within the memory the caller says there is.
// Messages say what would fit (how many tokens, or that the weights alone are too large).
// Browser-safe.
import type { DimBindings } from "../plan/dims.js";
import type { Plan, PlanBuffer } from "../plan/format.js";
import { formatBytes } from "../plan/bytes.js";
import { evalSize } from "../plan/size.js";
import { MoecRunError, formatDims } from "./errors.js";

export interface Budget {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  /** Bytes that weights and activations may take together (e.g. the machine's memory). */
  readonly memoryBytes?: number;
}

/**
 * Throws a MoecRunError when the plan cannot run within `budget`: at `dims` (T = ...) when given,
 * else for the weights alone (activations grow with the inputs and are checked at the run).
 */
export function checkBudget(plan: Plan, budget: Budget, dims?: DimBindings): void {
  const perBuffer = Math.min(budget.maxStorageBufferBindingSize, budget.maxBufferSize);
  // States (KV caches) have fixed sizes too: they count with the weights.
  const weights = plan.buffers.filter((b) => b.kind === "weight" || b.kind === "state");
  for (const b of weights) {
    const bytes = evalSize(b.bytes, {});
    if (bytes <= perBuffer) continue;
    // A KV cache holds one row per position: say how many positions would fit.
    const fix =
      b.kind === "state"
        ? `a shorter context: at most ${Math.floor(perBuffer / (bytes / b.shape[0]!))} positions fit`
        : `${halfHint(b, bytes, perBuffer)}fewer experts or narrower layers`;
    throw new MoecRunError(
      `${b.kind} ${b.name} needs ${formatBytes(bytes)} in one buffer; this device binds at most ${formatBytes(perBuffer)} per buffer (${fix})`,
    );
  }
  const weightBytes = weights.reduce((n, b) => n + evalSize(b.bytes, {}), 0);
  const memory = budget.memoryBytes;
  if (memory !== undefined && weightBytes > memory) {
    const f32 = weights.filter((b) => b.kind === "weight" && b.dtype === "f32");
    const halved = weightBytes - f32.reduce((n, b) => n + evalSize(b.bytes, {}) / 2, 0);
    const hint =
      f32.length > 0 && halved <= memory
        ? `; as f16 weights (--gpu-weights f16) they would need ${formatBytes(halved)}, which fits`
        : "";
    const caches = weights
      .filter((b) => b.kind === "state")
      .reduce((n, b) => n + evalSize(b.bytes, {}), 0);
    const what =
      caches > 0
        ? `the weights and KV caches (${formatBytes(caches)} of caches: a shorter context fits less) need`
        : "the weights alone need";
    throw new MoecRunError(
      `${what} ${formatBytes(weightBytes)}; this machine has ${formatBytes(memory)} of memory${hint}`,
    );
  }
  if (!dims) return;

  const growing = plan.buffers.filter((b) => b.kind === "input" || b.kind === "activation");
  const bytesAt = (b: PlanBuffer, d: DimBindings) => Math.max(4, evalSize(b.bytes, d));
  const fits = (d: DimBindings) =>
    growing.every((b) => bytesAt(b, d) <= perBuffer) &&
    (memory === undefined ||
      weightBytes + growing.reduce((n, b) => n + bytesAt(b, d), 0) <= memory);
  if (fits(dims)) return;
  const largest = growing.reduce((a, b) => (bytesAt(b, dims) > bytesAt(a, dims) ? b : a));
  const total = weightBytes + growing.reduce((n, b) => n + bytesAt(b, dims), 0);
  const why =
    bytesAt(largest, dims) > perBuffer
      ? `buffer ${largest.name} needs ${formatBytes(bytesAt(largest, dims))}; this device binds at most ${formatBytes(perBuffer)} per buffer`
      : `weights and activations need ${formatBytes(total)}; this machine has ${formatBytes(memory!)} of memory`;
  throw new MoecRunError(`at ${formatDims(dims)}, ${why}${fitHint(dims, fits)}`);
}

/** "f16 weights (--gpu-weights f16), " when an f32 weight would fit one buffer at half the size. */
function halfHint(b: PlanBuffer, bytes: number, perBuffer: number): string {
  return b.kind === "weight" && b.dtype === "f32" && bytes / 2 <= perBuffer
    ? "f16 weights (--gpu-weights f16), "
    : "";
}

/** "; at most T = 812 fits" for the one symbol (T) whose value is too large, found by bisection. */
function fitHint(dims: DimBindings, fits: (d: DimBindings) => boolean): string {
  const hints: string[] = [];
  for (const [sym, value] of Object.entries(dims)) {
    const at = (v: number) => fits({ ...dims, [sym]: v });
    if (!at(1)) continue;
    let lo = 1; // fits
    let hi = value; // does not fit
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (at(mid)) lo = mid;
      else hi = mid;
    }
    hints.push(`${sym} = ${lo}`);
  }
  return hints.length > 0 ? `; at most ${hints.join(", ")} fits` : "; not even one token fits";
}
