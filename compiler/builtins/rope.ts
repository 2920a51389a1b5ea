// Rotary-position scaling as Hugging Face configs state it (`rope_scaling`): the inverse
// frequency of each rotated pair and the factor on cos and sin, computed in float64 at compile
// time (transformers' _compute_linear_scaling_rope_parameters and _compute_yarn_parameters).
import { type Args, float, int, string, type BuiltinParam } from "./layer.js";

export const ROPE_TYPES = ["default", "linear", "yarn"] as const;

/** The rope_scaling parameters of Attention and MLAttention (0 = not given). */
export const ropeScalingParams: BuiltinParam[] = [
  string("rope_type", "default"),
  float("rope_factor", 1),
  int("rope_original_max", () => 0),
  float("rope_beta_fast", 32),
  float("rope_beta_slow", 1),
  float("rope_mscale", 0),
  float("rope_mscale_all_dim", 0),
];

export function ropeScalingCheck(a: Args): [string, string][] {
  const type = a.string("rope_type");
  if (!(ROPE_TYPES as readonly string[]).includes(type))
    return [
      [
        "rope_type",
        `rope_type must be one of ${ROPE_TYPES.map((t) => `"${t}"`).join(", ")}, got "${type}"`,
      ],
    ];
  if (type !== "default" && !(a.float("rope_factor") >= 1))
    return [["rope_factor", `rope_factor must be at least 1, got ${a.float("rope_factor")}`]];
  if (type === "yarn" && a.int("rope_original_max") < 1)
    return [["rope_original_max", "yarn needs rope_original_max, the pre-training context length"]];
  return [];
}

/** yarn's attention scale for a context stretched `scale` times (1 when not stretched). */
export function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/**
 * The rope op's scaling attributes for a head of `dim` rotated columns: nothing for "default"
 * (the kernels' own base^(-2i/dim) table), else the frequency table and the cos/sin factor.
 */
export function ropeScaling(
  a: Args,
  dim: number,
  base: number,
): { invFreq?: number[]; attentionFactor?: number } {
  const type = a.string("rope_type");
  if (type === "default") return {};
  const factor = a.float("rope_factor");
  const freqs = Array.from({ length: dim / 2 }, (_, i) => Math.pow(base, (-2 * i) / dim));
  if (type === "linear") return { invFreq: freqs.map((f) => f / factor) };
  const [mscale, mscaleAllDim] = [a.float("rope_mscale"), a.float("rope_mscale_all_dim")];
  const attentionFactor =
    mscale && mscaleAllDim
      ? yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim)
      : yarnMscale(factor);
  // The band of pairs between beta_fast and beta_slow rotations over the original context
  // blends from extrapolated (original) to interpolated (divided by the factor) frequencies.
  const original = a.int("rope_original_max");
  const correction = (rotations: number) =>
    (dim * Math.log(original / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  const low = Math.max(Math.floor(correction(a.float("rope_beta_fast"))), 0);
  let high = Math.min(Math.ceil(correction(a.float("rope_beta_slow"))), dim - 1);
  if (low === high) high += 0.001;
  const invFreq = freqs.map((f, i) => {
    const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
    const extrapolation = 1 - ramp;
    return (f / factor) * (1 - extrapolation) + f * extrapolation;
  });
  return { invFreq, ...(attentionFactor !== 1 && { attentionFactor }) };
}
