// Gradient checks in float64: the reference interpreter's backward (the IR the grad pass emits,
// run through the op table's semantics) against central finite differences of the forward graph.
import { appendGradients, builderFrom } from "../../compiler/autodiff/grad.js";
import type { Graph } from "../../compiler/ir/graph.js";
import { weightNodes } from "../../compiler/ir/graph.js";
import type { RefTensor } from "../../compiler/ir/ops.js";
import { resolveShape } from "../../compiler/ir/types.js";
import { verifyGraph } from "../../compiler/ir/verify.js";
import { bindDims, runReference } from "../../compiler/ir/interpret.js";
import { createRng, randomTensor } from "../../runtime/random.js";
import type { TensorData } from "../../runtime/session.js";

/** Hyper-parameters that shrink the shipped language models to a few hundred weights. */
export const TINY_LM = ["vocab=16", "dim=8", "layers=2", "attn_heads=2", "experts=4", "moe_ffn=8"];

export interface Leaves {
  readonly inputs: Map<string, RefTensor>;
  readonly weights: Map<string, RefTensor>;
}

export interface LeafCheck {
  readonly name: string;
  readonly relError: number;
  readonly gradNorm: number;
  readonly checked: number;
}

export function randomRef(shape: readonly number[], seed: number, scale = 1): RefTensor {
  return { shape, data: Float64Array.from(randomTensor(shape, seed), (v) => v * scale) };
}

/** Random non-zero weights for every weight node of graph (uniform in ±scale). */
export function randomWeights(graph: Graph, seed: number, scale = 1): Map<string, RefTensor> {
  return new Map(
    weightNodes(graph).map((w, i) => [
      w.attrs.name,
      randomRef(graph.values[w.outputs[0]!]!.type.shape as number[], seed * 1000 + i, scale),
    ]),
  );
}

/** Token ids in [0, limit) of the given length. */
export function randomIds(length: number, limit: number, seed: number): RefTensor {
  const rng = createRng(seed, 7);
  return { shape: [length], data: Float64Array.from({ length }, () => rng.nextUint32() % limit) };
}

/**
 * The vector-Jacobian product graph of `graph`: an input `d.NAME` per float output, outputs
 * `grad.NAME` per float input and weight. f = Σ_outputs Σ y ⊙ dy is what it differentiates.
 */
export function vjpGraph(graph: Graph): Graph {
  const b = builderFrom(graph, `${graph.name}_vjp`);
  b.outputs.length = 0;
  const seeds = new Map<number, number>();
  for (const o of graph.outputs) {
    const type = graph.values[o.value]!.type;
    if (type.dtype === "i32") continue;
    const span = graph.nodes[graph.values[o.value]!.node]!.span;
    const [d] = b.add("input", [], { name: `d.${o.name}` }, "", span, [type]);
    b.inputs.push({ name: `d.${o.name}`, value: d! });
    seeds.set(o.value, d!);
  }
  const leaves = [
    ...graph.inputs
      .filter((i) => graph.values[i.value]!.type.dtype !== "i32")
      .map((i) => ({ name: i.name, value: i.value })),
    ...weightNodes(graph).map((w) => ({ name: w.attrs.name, value: w.outputs[0]! })),
  ];
  const grads = appendGradients(
    b,
    seeds,
    leaves.map((l) => l.value),
  );
  leaves.forEach((l, i) => {
    if (grads[i] !== undefined) b.outputs.push({ name: `grad.${l.name}`, value: grads[i]! });
  });
  const g = b.build();
  const problems = verifyGraph(g);
  if (problems.length > 0) throw new Error(`invalid VJP graph:\n${problems.join("\n")}`);
  return g;
}

/** Cotangents for the float outputs of graph (random, non-zero). */
export function randomCotangents(
  graph: Graph,
  leaves: Leaves,
  seed: number,
): Map<string, RefTensor> {
  const bindings = bindDims(graph, leaves.inputs);
  const out = new Map<string, RefTensor>();
  graph.outputs.forEach((o, i) => {
    const type = graph.values[o.value]!.type;
    if (type.dtype !== "i32")
      out.set(`d.${o.name}`, randomRef(resolveShape(type.shape, bindings), seed + 97 * i));
  });
  return out;
}

/**
 * Checks every float leaf's gradient (at most `perLeaf` sampled elements each) against central
 * differences of objective(leaves); returns the relative L2 error per leaf.
 */
export function finiteDifferenceCheck(
  leaves: Leaves,
  analytic: ReadonlyMap<string, RefTensor>,
  objective: (leaves: Leaves) => number,
  options: { perLeaf?: number; step?: number; seed?: number } = {},
): LeafCheck[] {
  const perLeaf = options.perLeaf ?? 24;
  const h = options.step ?? 1e-6;
  const rng = createRng(options.seed ?? 1, 3);
  const checks: LeafCheck[] = [];
  for (const [kind, map] of [
    ["input", leaves.inputs],
    ["weight", leaves.weights],
  ] as const) {
    for (const [name, tensor] of map) {
      const grad = analytic.get(`grad.${name}`);
      if (!grad) {
        if (kind === "input" && [...tensor.data].every(Number.isInteger)) continue; // ids
        throw new Error(`no gradient for ${kind} ${name}`);
      }
      const n = tensor.data.length;
      const picks =
        n <= perLeaf
          ? Array.from({ length: n }, (_, i) => i)
          : Array.from({ length: perLeaf }, () => rng.nextUint32() % n);
      let num = 0;
      let den = 0;
      for (const i of picks) {
        const original = tensor.data[i]!;
        (tensor.data as Float64Array)[i] = original + h;
        const plus = objective(leaves);
        (tensor.data as Float64Array)[i] = original - h;
        const minus = objective(leaves);
        (tensor.data as Float64Array)[i] = original;
        const fd = (plus - minus) / (2 * h);
        num += (grad.data[i]! - fd) ** 2;
        den += fd ** 2;
      }
      let norm = 0;
      for (const v of grad.data) norm += v * v;
      checks.push({
        name,
        relError: Math.sqrt(num / den),
        gradNorm: Math.sqrt(norm),
        checked: picks.length,
      });
    }
  }
  return checks;
}

/** Σ over float outputs of y ⊙ dy: the scalar a VJP with cotangents dy differentiates. */
export function projectedOutputs(
  graph: Graph,
  leaves: Leaves,
  cotangents: ReadonlyMap<string, RefTensor>,
): number {
  const { outputs } = runReference(graph, leaves.inputs, leaves.weights);
  let f = 0;
  for (const [name, y] of outputs) {
    const dy = cotangents.get(`d.${name}`);
    if (!dy) continue;
    for (let i = 0; i < y.data.length; i++) f += y.data[i]! * dy.data[i]!;
  }
  return f;
}

/** Runs the VJP of graph in float64 and checks every leaf against finite differences. */
export function checkGraphGradients(graph: Graph, leaves: Leaves, seed = 1): LeafCheck[] {
  const vjp = vjpGraph(graph);
  const cotangents = randomCotangents(graph, leaves, seed);
  const { outputs } = runReference(vjp, new Map([...leaves.inputs, ...cotangents]), leaves.weights);
  return finiteDifferenceCheck(leaves, outputs, (l) => projectedOutputs(graph, l, cotangents), {
    seed,
  });
}

/** The leaves rounded to f32 (what the GPU sees), as GPU data and as float64 reference data. */
export function toDevice(graph: Graph, leaves: Leaves) {
  const ints = new Set(
    graph.inputs.filter((i) => graph.values[i.value]!.type.dtype === "i32").map((i) => i.name),
  );
  const inputs = new Map(
    [...leaves.inputs].map(([k, t]): [string, TensorData] => [
      k,
      { shape: t.shape, data: ints.has(k) ? Int32Array.from(t.data) : Float32Array.from(t.data) },
    ]),
  );
  const weights = new Map([...leaves.weights].map(([k, t]) => [k, Float32Array.from(t.data)]));
  const ref = (shape: readonly number[], data: ArrayLike<number>): RefTensor => ({
    shape,
    data: Float64Array.from(data),
  });
  return {
    inputs,
    weights,
    refInputs: new Map([...inputs].map(([k, t]) => [k, ref(t.shape, t.data)])),
    refWeights: new Map([...weights].map(([k, w]) => [k, ref(leaves.weights.get(k)!.shape, w)])),
  };
}
