// Small configurations of the shipped models: sizes that compile and run in a second or two even
// on a software adapter, for the tests and the playground (one table, so a new model gets its
// small size in one place). Plain data with no imports: the browser loads it too.

/** A single MoE layer: width 32, 4 experts of width 64. */
export const SMALL_LAYER: readonly string[] = ["dim=32", "experts=4", "ffn=64"];

/** The MH-MoE parity layers: width 32, 6 experts of width 32. */
export const SMALL_PARITY: readonly string[] = ["dim=32", "experts=6", "ffn=32"];

/** The language models: 2 layers of width 32 over a vocabulary of 64, 4 experts of width 64. */
export const SMALL_LM: readonly string[] = [
  "vocab=64",
  "dim=32",
  "layers=2",
  "experts=4",
  "moe_ffn=64",
];

/** The playground's language models: 4 layers, so that two of them are MoE layers. */
const PRESET_LM: readonly string[] = [...SMALL_LM.filter((s) => !s.startsWith("layers=")), "layers=4"];

/**
 * The small overrides (`name=value`) of a shipped model by its path (`models/smoe.moe`): the
 * playground's preset, and the size the tests use (language models there take SMALL_LM).
 */
export function smallOverrides(path: string): readonly string[] {
  if (path.includes("/lm_")) return PRESET_LM;
  if (path.includes("_parity")) return SMALL_PARITY;
  return SMALL_LAYER;
}
