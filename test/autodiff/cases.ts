// Small graphs, one per differentiable op or op combination, with their leaf data: checked
// against finite differences in float64 (ops.test.ts) and run on the GPU (gpu.test.ts).
import { type Graph, GraphBuilder } from "../../compiler/ir/graph.js";
import {
  ACTIVATIONS,
  GATINGS,
  type OpAttrs,
  type OpName,
  type RefTensor,
} from "../../compiler/ir/ops.js";
import type { TensorType } from "../../compiler/ir/types.js";
import type { Span } from "../../grammar/ast.js";
import { type Leaves, randomIds, randomRef } from "./gradcheck.js";

const SPAN: Span = {
  file: "test",
  startOffset: 0,
  endOffset: 0,
  line: 1,
  column: 1,
  endLine: 1,
  endColumn: 1,
};

/** A small graph under construction, with the leaf values a check perturbs. */
export class Case {
  readonly b = new GraphBuilder("case");
  readonly leaves: Leaves = { inputs: new Map(), weights: new Map() };
  #seed = 1;

  input(name: string, shape: number[], ints?: RefTensor): number {
    const type: TensorType = { dtype: ints ? "i32" : "f32", shape };
    const [v] = this.b.add("input", [], { name }, "", SPAN, [type]);
    this.b.inputs.push({ name, value: v! });
    this.leaves.inputs.set(name, ints ?? randomRef(shape, this.#seed++));
    return v!;
  }

  weight(name: string, shape: number[]): number {
    const [v] = this.b.add("weight", [], { name, init: "linear", fanIn: 1 }, name, SPAN, [
      { dtype: "f32", shape },
    ]);
    this.leaves.weights.set(name, randomRef(shape, this.#seed++));
    return v!;
  }

  op<K extends OpName>(op: K, inputs: number[], attrs: OpAttrs[K]): number[] {
    return this.b.add(op, inputs, attrs, op, SPAN);
  }

  output(...values: number[]): this {
    values.forEach((v, i) => this.b.outputs.push({ name: `y${i}`, value: v }));
    return this;
  }

  get graph(): Graph {
    return this.b.build();
  }
}

const ids = (values: number[]): RefTensor => ({
  shape: [values.length],
  data: Float64Array.from(values),
});

export interface GradCase {
  readonly title: string;
  readonly build: () => Case;
}

function linear(bias: boolean): Case {
  const c = new Case();
  const x = c.input("x", [3, 4]);
  const w = c.weight("w", [5, 4]);
  return c.output(c.op("linear", bias ? [x, w, c.weight("b", [5])] : [x, w], {})[0]!);
}

function norm(kind: "rmsnorm" | "layernorm"): Case {
  const c = new Case();
  const x = c.input("x", [3, 6]);
  const w = c.weight("w", [6]);
  const ins = kind === "rmsnorm" ? [x, w] : [x, w, c.weight("b", [6])];
  return c.output(c.op(kind, ins, { eps: 1e-5 })[0]!);
}

function experts(gated: boolean, bias: boolean): Case {
  const c = new Case();
  const x = c.input("x", [4, 3]);
  // Assignment (row 1, choice 1) is dropped (-1): it must contribute nothing.
  const chosen = { shape: [4, 2], data: Float64Array.from([0, 2, 1, -1, 2, 0, 1, 2]) };
  const expert = c.input("expert", [4, 2], chosen);
  const gate = c.input("gate", [4, 2]);
  const w1 = c.weight("w1", [3, 5, 3]);
  const extra = gated ? c.weight("wu", [3, 5, 3]) : c.weight("b1", [3, 5]);
  const h = c.op("expert_up", [x, expert, w1, extra], { act: "silu", gated, bias })[0]!;
  const w2 = c.weight("w2", [3, 3, 5]);
  const down = [h, expert, gate, w2, ...(bias ? [c.weight("b2", [3, 3])] : [])];
  const slots = c.op("expert_down", down, { bias })[0]!;
  return c.output(c.op("combine", [slots], {})[0]!);
}

export const GRAD_CASES: readonly GradCase[] = [
  { title: "linear", build: () => linear(false) },
  { title: "linear with bias", build: () => linear(true) },
  {
    title: "embedding, repeated ids accumulated",
    build: () => {
      const c = new Case();
      const t = c.input("ids", [7], ids([1, 3, 1, 0, 3, 3, 4]));
      return c.output(c.op("embedding", [t, c.weight("table", [5, 3])], {})[0]!);
    },
  },
  { title: "rmsnorm", build: () => norm("rmsnorm") },
  { title: "layernorm", build: () => norm("layernorm") },
  ...ACTIVATIONS.map((fn) => ({
    title: `activation ${fn}`,
    build: () => {
      const c = new Case();
      return c.output(c.op("activation", [c.input("x", [4, 5])], { fn })[0]!);
    },
  })),
  {
    title: "add and mul, a value used twice",
    build: () => {
      const c = new Case();
      const a = c.input("a", [3, 4]);
      const s = c.op("add", [a, c.input("b", [3, 4])], {})[0]!;
      const p = c.op("mul", [s, a], {})[0]!;
      return c.output(c.op("mul", [p, p], {})[0]!);
    },
  },
  {
    title: "split and join around a per-head linear",
    build: () => {
      const c = new Case();
      const s = c.op("split", [c.input("x", [3, 8])], { heads: 2 })[0]!;
      const y = c.op("linear", [s, c.weight("w", [4, 4])], {})[0]!;
      return c.output(c.op("join", [y], { heads: 2 })[0]!);
    },
  },
  {
    title: "rope",
    build: () => {
      const c = new Case();
      return c.output(c.op("rope", [c.input("x", [5, 8])], { heads: 2, base: 10000 })[0]!);
    },
  },
  {
    title: "causal attention",
    build: () => {
      const c = new Case();
      const [q, k, v] = ["q", "k", "v"].map((n) => c.input(n, [5, 8]));
      return c.output(c.op("attention", [q!, k!, v!], { heads: 2 })[0]!);
    },
  },
  {
    title: "rope: interleaved pairs, scaled frequencies and attention factor (yarn-like)",
    build: () => {
      const c = new Case();
      const x = c.input("x", [5, 8]);
      const attrs = {
        heads: 2,
        base: 10000,
        interleaved: true,
        invFreq: [0.9, 0.05],
        attentionFactor: 1.2,
      };
      return c.output(c.op("rope", [x], attrs)[0]!);
    },
  },
  {
    title: "grouped-query attention: 4 query heads over 2 key/value heads, wider values, a scale",
    build: () => {
      const c = new Case();
      const q = c.input("q", [5, 12]);
      const k = c.input("k", [5, 6]);
      const v = c.input("v", [5, 10]);
      return c.output(c.op("attention", [q, k, v], { heads: 4, kvHeads: 2, scale: 0.4 })[0]!);
    },
  },
  ...GATINGS.map((gating) => ({
    title: `route (${gating}): gates and probabilities`,
    build: () => {
      const c = new Case();
      const [, gate, probs] = c.op("route", [c.input("logits", [6, 5])], { topK: 2, gating });
      return c.output(gate!, probs!);
    },
  })),
  {
    title: "capacity: dropped assignments get no gradient",
    build: () => {
      const c = new Case();
      const routed = c.op("route", [c.input("logits", [8, 4])], { topK: 2, gating: "softmax" });
      const [kept, keptGate] = c.op("capacity", [routed[0]!, routed[1]!], {
        experts: 4,
        rule: "factor",
        capacity: 0.5,
        admit: "rank",
      });
      return c.output(keptGate!, kept!);
    },
  },
  {
    title: "X-MoE cosine logits (rows, expert embeddings, temperature)",
    build: () => {
      const c = new Case();
      const ins = [c.input("h", [5, 4]), c.weight("emb", [3, 4]), c.weight("tau", [1])];
      c.leaves.weights.set("tau", { shape: [1], data: Float64Array.of(0.3) }); // X-MoE's τ0
      return c.output(c.op("cosine_logits", ins, {})[0]!);
    },
  },
  { title: "experts with biases (a dropped assignment)", build: () => experts(false, true) },
  { title: "gated experts (a dropped assignment)", build: () => experts(true, false) },
  {
    title: "softmax cross-entropy over the vocabulary",
    build: () => {
      const c = new Case();
      const logits = c.input("logits", [5, 7]);
      const targets = c.input("targets", [5], randomIds(5, 7, 3));
      return c.output(c.op("cross_entropy", [logits, targets], {})[0]!);
    },
  },
  {
    title: "load-balancing term (with the router's gates, which always feed its experts)",
    build: () => {
      const c = new Case();
      const [expert, gate, probs] = c.op("route", [c.input("logits", [6, 4])], {
        topK: 2,
        gating: "softmax",
      });
      const loss = c.op("balance_loss", [expert!, probs!], { experts: 4, coef: 1e-2 })[0]!;
      return c.output(loss, gate!);
    },
  },
];
