// The expert capacity rule (design.md section 4): the compiler's reference semantics apply it,
// and the runtime computes C for the kernels from the routed rows known only at run time.

/** Capacity C = ceil(factor * k * ceil(S / E)); all first choices are placed before any second. */
export function expertCapacity(
  rowsRouted: number,
  topK: number,
  experts: number,
  factor: number,
): number {
  return Math.ceil(factor * topK * Math.ceil(rowsRouted / experts));
}

/**
 * Expert ids [rows, topK] after the capacity limit (-1 = dropped), in the official order: every
 * first choice before any second choice, earlier rows first. Returns a new array.
 */
export function keptExpertIds(
  expert: Float64Array,
  rows: number,
  topK: number,
  experts: number,
  factor: number,
): Float64Array {
  const capacity = expertCapacity(rows, topK, experts, factor);
  const kept = expert.slice();
  const load = new Array<number>(experts).fill(0);
  for (let j = 0; j < topK; j++) {
    for (let r = 0; r < rows; r++) {
      const e = expert[r * topK + j]!;
      if (load[e]! < capacity) load[e]!++;
      else kept[r * topK + j] = -1;
    }
  }
  return kept;
}
