// Weight names (design.md section 3, a contract users rely on): dotted paths in PyTorch layout.
// A stacked expert tensor holds E experts along its first axis under one name with `{e}` where
// the expert index goes: `bank.{e}.fc1.weight` is `bank.0.fc1.weight`, `bank.1.fc1.weight`, ...
// This file is the one place that knows the placeholder.

const EXPERT_INDEX = "{e}";

/** The name of a stacked expert weight: `{e}.` before the per-expert suffix (`{e}.fc1.weight`). */
export function stackedExpertName(suffix: string): string {
  return `${EXPERT_INDEX}.${suffix}`;
}

/** Whether a weight name stands for a stack of per-expert tensors. */
export function isStackedExpertName(name: string): boolean {
  return name.includes(EXPERT_INDEX);
}

/**
 * The name of expert `e` of a stacked weight (`bank.{e}.fc1.weight`, 3 -> `bank.3.fc1.weight`);
 * "*" gives the pattern of all of them, for messages. Other names come back unchanged.
 */
export function expertWeightName(name: string, e: number | "*"): string {
  return name.replace(EXPERT_INDEX, String(e));
}

/** Every per-expert name of a stacked weight with `experts` experts, in expert order. */
export function expertWeightNames(name: string, experts: number): string[] {
  return Array.from({ length: experts }, (_, e) => expertWeightName(name, e));
}

/** A stacked expert weight's name as one tensor on disk: without `{e}.` (`bank.fc1.weight`). */
export function stackedTensorName(name: string): string {
  return name.replace(`${EXPERT_INDEX}.`, "");
}

/**
 * A router's selection bias (DeepSeek-V3's `e_score_correction_bias`, its checkpoints' own name):
 * it only selects experts, so no gradient reaches it; training moves it by load instead.
 */
export const SELECTION_BIAS = "e_score_correction_bias";
