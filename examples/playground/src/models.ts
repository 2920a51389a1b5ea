// The shipped .moe files, bundled into the page as text (models/std included, for imports), by
// the paths the compiler's memoryHost expects: `models/smoe.moe`, `models/std/moe.moe`.
import { smallOverrides as smallSizes } from "../../../models/small.js";

const raw = import.meta.glob("../../../models/**/*.moe", {
  query: "?raw",
  import: "default",
  eager: true,
}) as Record<string, string>;

export const MODEL_FILES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(raw)
    .map(([key, text]) => [key.replace(/^(\.\.\/)+/, ""), text] as const)
    .sort(([a], [b]) => a.localeCompare(b)),
);

/** The models a user picks from (the library in models/std is imported, not run). */
export const SHIPPED_MODELS: readonly string[] = Object.keys(MODEL_FILES).filter(
  (p) => !p.startsWith("models/std/"),
);

/** Small sizes that run in a second or two even on a software adapter; clear them for full size. */
export function smallOverrides(path: string): string {
  return smallSizes(path).join(" ");
}
