// The expert capacity rules of the official code (design.md section 4, papers.md section 4): how
// many assignments C each expert takes, and in which order assignments compete for those slots.
// The one home of the rule: the compiler's reference semantics apply it, and the runtime computes
// C for the kernels from the routed rows, known only at run time.

/**
 * How C is set from the `capacity` number:
 * - "factor": C = k · floor(capacity · ceil(S / E)), as tutel rounds a non-integer factor
 *   (`top_k * int(capacity_factor * ceil(S / E))`); capacity 0 is dropless. The official MH-MoE
 *   code trains with factor 1: C = k · ceil(S / E).
 * - "tokens": C = capacity, a fixed number of assignments per expert.
 * - "fraction": C = ceil(capacity · S), the official evaluation mode
 *   (`moe_eval_capacity_token_fraction`, 0.25 by default there), capacity in (0, 1].
 * S is the number of routed rows (tokens, or T·h sub-tokens after an MH-MoE split).
 */
export type CapacityRule = "factor" | "tokens" | "fraction";
export const CAPACITY_RULES: readonly CapacityRule[] = ["factor", "tokens", "fraction"];

/**
 * The order in which assignments (row r, choice j) are admitted until an expert is full:
 * - "rank": rank-major, the official code's: every first choice (rows in order) before any
 *   second choice, and so on;
 * - "token": token-major: row by row, each row's choices in rank order.
 */
export type Admission = "rank" | "token";
export const ADMISSIONS: readonly Admission[] = ["rank", "token"];

export interface CapacityLimit {
  readonly rule: CapacityRule;
  /** The factor, the fixed number of assignments, or the fraction of routed rows. */
  readonly capacity: number;
  readonly admit: Admission;
}

/** The official code's default: dropless, rank-major. */
export const DROPLESS: CapacityLimit = { rule: "factor", capacity: 0, admit: "rank" };

/** True when the limit never drops an assignment (a factor of 0). */
export function isDropless(limit: CapacityLimit): boolean {
  return limit.rule === "factor" && limit.capacity === 0;
}

/** C for S routed rows, top-k and E experts; Infinity when dropless. */
export function expertCapacity(
  limit: CapacityLimit,
  rowsRouted: number,
  topK: number,
  experts: number,
): number {
  switch (limit.rule) {
    case "factor":
      return limit.capacity === 0
        ? Infinity
        : topK * Math.floor(limit.capacity * Math.ceil(rowsRouted / experts));
    case "tokens":
      return limit.capacity;
    case "fraction":
      return Math.ceil(limit.capacity * rowsRouted);
  }
}

/** Assignment indices a = r·k + j in admission order. */
export function admissionOrder(rows: number, topK: number, admit: Admission): number[] {
  const order: number[] = [];
  if (admit === "token") for (let a = 0; a < rows * topK; a++) order.push(a);
  else for (let j = 0; j < topK; j++) for (let r = 0; r < rows; r++) order.push(r * topK + j);
  return order;
}

/**
 * Expert ids [rows, topK] after the capacity limit (-1 = dropped): each expert keeps the first C
 * assignments in admission order. Returns a new array.
 */
export function keptExpertIds(
  expert: Float64Array,
  rows: number,
  topK: number,
  experts: number,
  limit: CapacityLimit,
): Float64Array {
  const capacity = expertCapacity(limit, rows, topK, experts);
  const kept = expert.slice();
  const load = new Array<number>(experts).fill(0);
  for (const a of admissionOrder(rows, topK, limit.admit)) {
    const e = expert[a]!;
    if (load[e]! < capacity) load[e]!++;
    else kept[a] = -1;
  }
  return kept;
}
