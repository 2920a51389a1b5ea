// Edit-distance hints: "did you mean" for misspelled names.

/**
 * ` (did you mean 'x'?)` for the closest known name within a small edit distance. Names shorter
 * than 3 characters get no suggestion (any short name is "close" to any other), and a
 * one-letter name (a loop index, a symbolic dim) is never suggested.
 */
export function suggest(name: string, known: Iterable<string>): string {
  if (name.length < 3) return "";
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of new Set(known)) {
    if (k.length < 2) continue;
    const d = editDistance(name, k);
    if (d < bestDistance && k !== name) [best, bestDistance] = [k, d];
  }
  return best ? ` (did you mean '${best}'?)` : "";
}

export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}
