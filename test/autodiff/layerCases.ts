// Tiny BitNet b1.58 and X-MoE layer and language-model configurations with their leaf data,
// shared by the float64 checks (bitnet.test.ts, xmoe.test.ts) and the GPU ones.
import type { Graph } from "../../compiler/ir/graph.js";
import { MIN_TEMPERATURE } from "../../compiler/ir/ops.js";
import { Case } from "./cases.js";
import { type Leaves, TINY_LM, randomIds, randomRef, randomWeights } from "./gradcheck.js";

export const BITNET_LAYERS = [
  { file: "models/smoe_bitnet.moe", sets: ["dim=8", "experts=4", "ffn=8"] },
  { file: "models/smoe_bitnet.moe", sets: ["dim=8", "experts=4", "ffn=8", "top_k=2"] },
  { file: "models/mh_moe_bitnet.moe", sets: ["dim=8", "experts=6", "ffn=8"] },
];

export const XMOE_LAYERS = [
  { file: "models/xmoe.moe", sets: ["dim=8", "experts=4", "ffn=8", "xmoe=4"] },
  { file: "models/xmoe.moe", sets: ["dim=8", "experts=4", "ffn=8", "xmoe=4", "gating=sigmoid"] },
];

/** Language models with BitNet MoE blocks, X-MoE routers, or both (std/transformer.moe). */
export const QUANT_XMOE_LMS = [
  { file: "models/lm_smoe.moe", sets: [...TINY_LM, "quant=b1.58"] },
  { file: "models/lm_smoe.moe", sets: [...TINY_LM, "xmoe=4"] },
  { file: "models/lm_mh_moe.moe", sets: [...TINY_LM, "quant=b1.58", "xmoe=4"] },
];

/** Random weights (f32 masters), with every X-MoE temperature at its τ0 = 0.3, not clamped. */
function weights(graph: Graph, seed: number): Leaves["weights"] {
  const out = randomWeights(graph, seed, 0.5);
  for (const name of out.keys())
    if (name.endsWith("temperature")) out.set(name, { shape: [1], data: Float64Array.of(0.3) });
  return out;
}

/** A layer model's input x [6, 8] and weights. */
export function layerLeaves(graph: Graph): Leaves {
  return { inputs: new Map([["x", randomRef([6, 8], 5)]]), weights: weights(graph, 4) };
}

/** A language model's ids and targets (7 tokens) and weights. */
export function lmLeaves(graph: Graph): Leaves {
  const inputs = new Map([
    ["ids", randomIds(7, 16, 1)],
    ["targets", randomIds(7, 16, 2)],
  ]);
  return { inputs, weights: weights(graph, 3) };
}

/**
 * cosine_logits with its clamps active: row 1 of h and embedding 2 shorter than eps (|v| < 2e-6,
 * below eps = 1e-4 even after a finite-difference step), and tau below tau_min.
 */
export function clampedCosine(): Case {
  const c = new Case();
  const ins = [c.input("h", [4, 3]), c.weight("emb", [3, 3]), c.weight("tau", [1])];
  c.output(c.op("cosine_logits", ins, {})[0]!);
  const h = c.leaves.inputs.get("h")!.data as Float64Array;
  const emb = c.leaves.weights.get("emb")!.data as Float64Array;
  for (let k = 0; k < 3; k++) {
    h[3 + k]! *= 1e-6;
    emb[6 + k]! *= 1e-6;
  }
  c.leaves.weights.set("tau", { shape: [1], data: Float64Array.of(MIN_TEMPERATURE / 2) });
  return c;
}
