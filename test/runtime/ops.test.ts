// Every IR op's -O0 kernel on Dawn against the float64 reference of the op table: random data
// (never all zeros), output buffers poisoned with NaN first, relative L2 error < 1e-5 for floats
// and exact equality for integers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Graph, GraphBuilder } from "../../compiler/ir/graph.js";
import type { OpAttrs, OpName } from "../../compiler/ir/ops.js";
import { type DType, type Dim, resolveShape, sym } from "../../compiler/ir/types.js";
import { buildPlan } from "../../compiler/plan.js";
import type { Span } from "../../grammar/ast.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { createRng, hashString } from "../../runtime/random.js";
import { runReference } from "../../compiler/ir/interpret.js";
import { Session, type TensorData } from "../../runtime/session.js";
import { relL2, toRef } from "./helpers.js";

const SPAN: Span = {
  file: "ops.test",
  startOffset: 0,
  endOffset: 0,
  line: 1,
  column: 1,
  endLine: 1,
  endColumn: 1,
};
const T = sym("T");

interface Operand {
  /** A state (KV cache) starts at zeros in both the session and the reference. */
  readonly kind: "input" | "weight" | "state";
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  /** Values: uniform(-scale, scale) without zeros (default scale 1), or integers in [lo, hi). */
  readonly scale?: number;
  readonly ints?: readonly [lo: number, hi: number];
  readonly positive?: boolean;
  /** Integer values drawn without replacement (positions of a KV cache: each row written once). */
  readonly distinct?: boolean;
}

interface OpCase<K extends OpName = OpName> {
  readonly title: string;
  readonly op: K;
  readonly attrs: OpAttrs[K];
  readonly operands: readonly Operand[];
  readonly tokens: number;
}

const f32 = (
  kind: Operand["kind"],
  name: string,
  shape: Dim[],
  extra: Partial<Operand> = {},
): Operand => ({
  kind,
  name,
  dtype: "f32",
  shape,
  ...extra,
});
const i32 = (name: string, shape: Dim[], lo: number, hi: number): Operand => ({
  kind: "input",
  name,
  dtype: "i32",
  shape,
  ints: [lo, hi],
});

function opCase<K extends OpName>(c: OpCase<K>): OpCase {
  return c as unknown as OpCase;
}

// Sizes are small (lavapipe is slow) and T is never a multiple of the workgroup size.
const CASES: OpCase[] = [
  opCase({
    title: "linear with bias",
    op: "linear",
    attrs: {},
    tokens: 7,
    operands: [f32("input", "x", [T, 24]), f32("weight", "w", [20, 24]), f32("weight", "b", [20])],
  }),
  opCase({
    title: "linear without bias, rank 3",
    op: "linear",
    attrs: {},
    tokens: 5,
    operands: [f32("input", "x", [T, 3, 16]), f32("weight", "w", [12, 16])],
  }),
  opCase({
    title: "embedding",
    op: "embedding",
    attrs: {},
    tokens: 9,
    operands: [i32("ids", [T], 0, 50), f32("weight", "table", [50, 16])],
  }),
  opCase({
    title: "rmsnorm",
    op: "rmsnorm",
    attrs: { eps: 1e-6 },
    tokens: 6,
    operands: [f32("input", "x", [T, 40], { scale: 3 }), f32("weight", "w", [40])],
  }),
  opCase({
    title: "layernorm",
    op: "layernorm",
    attrs: { eps: 1e-5 },
    tokens: 6,
    operands: [
      f32("input", "x", [T, 40], { scale: 3 }),
      f32("weight", "w", [40]),
      f32("weight", "b", [40]),
    ],
  }),
  ...(["gelu", "gelu_tanh", "silu", "relu", "sigmoid"] as const).map((fn) =>
    opCase({
      title: `activation ${fn}`,
      op: "activation",
      attrs: { fn },
      tokens: 67,
      operands: [f32("input", "x", [T, 30], { scale: 6 })],
    }),
  ),
  opCase({
    title: "add",
    op: "add",
    attrs: {},
    tokens: 13,
    operands: [f32("input", "a", [T, 10]), f32("input", "b", [T, 10])],
  }),
  opCase({
    title: "mul",
    op: "mul",
    attrs: {},
    tokens: 13,
    operands: [f32("input", "a", [T, 10]), f32("input", "b", [T, 10])],
  }),
  opCase({
    title: "sub",
    op: "sub",
    attrs: {},
    tokens: 13,
    operands: [f32("input", "a", [T, 10]), f32("input", "b", [T, 10])],
  }),
  opCase({
    title: "scale by a number",
    op: "scale",
    attrs: { factor: -0.37 },
    tokens: 13,
    operands: [f32("input", "x", [T, 10])],
  }),
  opCase({
    title: "scale rows by a per-row gate",
    op: "scale_rows",
    attrs: {},
    tokens: 13,
    operands: [f32("input", "x", [T, 10]), f32("input", "s", [T, 1])],
  }),
  opCase({
    title: "rope",
    op: "rope",
    attrs: { heads: 2, base: 10000 },
    tokens: 40,
    operands: [f32("input", "x", [T, 16])],
  }),
  opCase({
    title: "attention",
    op: "attention",
    attrs: { heads: 2 },
    tokens: 11,
    operands: [f32("input", "q", [T, 16]), f32("input", "k", [T, 16]), f32("input", "v", [T, 16])],
  }),
  opCase({
    title: "attention, one head",
    op: "attention",
    attrs: { heads: 1 },
    tokens: 1,
    operands: [f32("input", "q", [T, 8]), f32("input", "k", [T, 8]), f32("input", "v", [T, 8])],
  }),
  opCase({
    title: "rope at given positions",
    op: "rope",
    attrs: { heads: 2, base: 10000 },
    tokens: 9,
    operands: [f32("input", "x", [T, 16]), { ...i32("positions", [T], 0, 300), distinct: true }],
  }),
  opCase({
    title: "rope scaled (a frequency table and a factor on cos and sin, as yarn)",
    op: "rope",
    attrs: { heads: 2, base: 10000, invFreq: [1, 0.3, 0.02, 0.0007], attentionFactor: 1.14 },
    tokens: 40,
    operands: [f32("input", "x", [T, 16])],
  }),
  opCase({
    title: "attention with its own softmax scale",
    op: "attention",
    attrs: { heads: 2, scale: 0.41 },
    tokens: 11,
    operands: [f32("input", "q", [T, 16]), f32("input", "k", [T, 16]), f32("input", "v", [T, 16])],
  }),
  opCase({
    title: "rope, interleaved pairs (DeepSeek)",
    op: "rope",
    attrs: { heads: 2, base: 10000, interleaved: true },
    tokens: 9,
    operands: [f32("input", "x", [T, 16])],
  }),
  opCase({
    title: "kv_write into a zeroed cache at scattered positions",
    op: "kv_write",
    attrs: {},
    tokens: 5,
    operands: [
      f32("input", "rows", [T, 12]),
      { ...i32("positions", [T], 0, 16), distinct: true },
      { kind: "state", name: "cache", dtype: "f32", shape: [16, 12] },
    ],
  }),
  opCase({
    title: "cached_attention: 4 query heads over 2 key/value heads of a 20-row cache",
    op: "cached_attention",
    attrs: { heads: 4, kvHeads: 2 },
    tokens: 6,
    operands: [
      f32("input", "q", [T, 16]),
      f32("input", "k", [20, 8]),
      f32("input", "v", [20, 10]),
      { ...i32("positions", [T], 0, 20), distinct: true },
    ],
  }),
  opCase({
    title: "slice_cols",
    op: "slice_cols",
    attrs: { start: 3, width: 5 },
    tokens: 7,
    operands: [f32("input", "x", [T, 12])],
  }),
  opCase({
    title: "concat_cols",
    op: "concat_cols",
    attrs: {},
    tokens: 7,
    operands: [f32("input", "a", [T, 5]), f32("input", "b", [T, 3])],
  }),
  opCase({
    title: "repeat_rows",
    op: "repeat_rows",
    attrs: { times: 3 },
    tokens: 7,
    operands: [f32("input", "x", [T, 4])],
  }),
  opCase({
    title: "grouped-query attention (4 query heads over 2 key/value heads)",
    op: "attention",
    attrs: { heads: 4, kvHeads: 2 },
    tokens: 11,
    operands: [f32("input", "q", [T, 16]), f32("input", "k", [T, 8]), f32("input", "v", [T, 8])],
  }),
  opCase({
    title: "attention with a value width of its own (one key/value head)",
    op: "attention",
    attrs: { heads: 2, kvHeads: 1 },
    tokens: 9,
    operands: [f32("input", "q", [T, 16]), f32("input", "k", [T, 8]), f32("input", "v", [T, 6])],
  }),
  opCase({
    title: "route_grouped: sigmoid, selection bias, 4 groups keep 2, renorm, scale",
    op: "route_grouped",
    attrs: { topK: 3, groups: 4, topkGroups: 2, renorm: true, scale: 2.5 },
    tokens: 11,
    operands: [f32("input", "logits", [T, 8], { scale: 4 }), f32("weight", "bias", [8])],
  }),
  opCase({
    title: "route_grouped: sigmoid top-2 without bias or groups",
    op: "route_grouped",
    attrs: { topK: 2, groups: 1, topkGroups: 1, renorm: false, scale: 1 },
    tokens: 7,
    operands: [f32("input", "logits", [T, 6], { scale: 4 })],
  }),
  ...(["softmax", "renorm", "softmax_topk", "sigmoid"] as const).map((gating) =>
    opCase({
      title: `route top-2 ${gating}`,
      op: "route",
      attrs: { topK: 2, gating },
      tokens: 11,
      operands: [f32("input", "logits", [sym("T", 2), 6], { scale: 4 })],
    }),
  ),
  opCase({
    title: "route top_k = experts",
    op: "route",
    attrs: { topK: 4, gating: "renorm" },
    tokens: 5,
    operands: [f32("input", "logits", [T, 4], { scale: 4 })],
  }),
  opCase({
    title: "capacity that drops",
    op: "capacity",
    attrs: { experts: 3, rule: "factor", capacity: 0.5, admit: "rank" },
    tokens: 10,
    operands: [i32("expert", [T, 2], 0, 3), f32("input", "gate", [T, 2], { positive: true })],
  }),
  opCase({
    title: "capacity, factor 1.25",
    op: "capacity",
    attrs: { experts: 4, rule: "factor", capacity: 1.25, admit: "rank" },
    tokens: 9,
    operands: [i32("expert", [T, 1], 0, 2), f32("input", "gate", [T, 1], { positive: true })],
  }),
  opCase({
    title: "capacity, 2 tokens per expert, token-major",
    op: "capacity",
    attrs: { experts: 3, rule: "tokens", capacity: 2, admit: "token" },
    tokens: 10,
    operands: [i32("expert", [T, 2], 0, 3), f32("input", "gate", [T, 2], { positive: true })],
  }),
  opCase({
    title: "capacity, fraction 0.25 of the rows",
    op: "capacity",
    attrs: { experts: 4, rule: "fraction", capacity: 0.25, admit: "rank" },
    tokens: 13,
    operands: [i32("expert", [T, 3], 0, 4), f32("input", "gate", [T, 3], { positive: true })],
  }),
  opCase({
    title: "cosine_logits (X-MoE), r = 5",
    op: "cosine_logits",
    attrs: {},
    tokens: 9,
    operands: [
      f32("input", "h", [T, 5]),
      f32("weight", "router.weight", [7, 5]),
      f32("weight", "router.temperature", [1], { positive: true }),
    ],
  }),
  opCase({
    title: "expert_up gated silu",
    op: "expert_up",
    attrs: { act: "silu", gated: true, bias: false },
    tokens: 7,
    operands: [
      f32("input", "x", [T, 12]),
      i32("expert", [T, 2], -1, 4),
      f32("weight", "bank.{e}.gate", [4, 20, 12]),
      f32("weight", "bank.{e}.up", [4, 20, 12]),
    ],
  }),
  opCase({
    title: "expert_up gelu with bias",
    op: "expert_up",
    attrs: { act: "gelu", gated: false, bias: true },
    tokens: 7,
    operands: [
      f32("input", "x", [T, 12], { scale: 3 }),
      i32("expert", [T, 1], -1, 3),
      f32("weight", "bank.{e}.fc1.weight", [3, 20, 12]),
      f32("weight", "bank.{e}.fc1.bias", [3, 20]),
    ],
  }),
  opCase({
    title: "expert_down with bias",
    op: "expert_down",
    attrs: { bias: true },
    tokens: 7,
    operands: [
      f32("input", "h", [T, 2, 20]),
      i32("expert", [T, 2], -1, 3),
      f32("input", "gate", [T, 2], { positive: true }),
      f32("weight", "bank.{e}.fc2.weight", [3, 12, 20]),
      f32("weight", "bank.{e}.fc2.bias", [3, 12]),
    ],
  }),
  opCase({
    title: "expert_down without bias",
    op: "expert_down",
    attrs: { bias: false },
    tokens: 3,
    operands: [
      f32("input", "h", [T, 1, 8]),
      i32("expert", [T, 1], 0, 2),
      f32("input", "gate", [T, 1], { positive: true }),
      f32("weight", "bank.{e}.down", [2, 6, 8]),
    ],
  }),
  opCase({
    title: "combine",
    op: "combine",
    attrs: {},
    tokens: 9,
    operands: [f32("input", "slots", [T, 3, 10])],
  }),
  opCase({
    title: "route_stats, 2 heads",
    op: "route_stats",
    attrs: { experts: 5, heads: 2 },
    tokens: 9,
    operands: [
      i32("routed", [sym("T", 2), 2], 0, 5),
      i32("kept", [sym("T", 2), 2], -1, 5),
      f32("input", "probs", [sym("T", 2), 5], { positive: true }),
    ],
  }),
];

/** A graph of one node whose every output is a graph output (`out0`, `out1`, ...). */
function singleOpGraph(c: OpCase): Graph {
  const b = new GraphBuilder(c.title.replace(/\W+/g, "_"));
  const ids = c.operands.map((o) => {
    const type = { dtype: o.dtype, shape: o.shape };
    const attrs =
      o.kind === "weight" ? { name: o.name, init: "linear" as const, fanIn: 1 } : { name: o.name };
    const [v] = b.add(o.kind, [], attrs as never, "", SPAN, [type]);
    if (o.kind === "input") b.inputs.push({ name: o.name, value: v! });
    return v!;
  });
  const outs = b.add(c.op, ids, c.attrs as never, "op", SPAN);
  outs.forEach((v, i) => b.outputs.push({ name: `out${i}`, value: v }));
  return b.build();
}

function operandData(o: Operand, tokens: number, seed: number): TensorData {
  const shape = resolveShape(o.shape, { T: tokens });
  const n = shape.reduce((a, c) => a * c, 1);
  const rng = createRng(seed, hashString(o.name));
  if (o.ints) {
    const [lo, hi] = o.ints;
    if (o.distinct) {
      const pool = Array.from({ length: hi - lo }, (_, i) => lo + i);
      for (let i = pool.length - 1; i > 0; i--) {
        const j = rng.nextUint32() % (i + 1);
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      return { shape, data: Int32Array.from(pool.slice(0, n)) };
    }
    return {
      shape,
      data: Int32Array.from({ length: n }, () => lo + (rng.nextUint32() % (hi - lo))),
    };
  }
  const scale = o.scale ?? 1;
  const data = Float32Array.from({ length: n }, () => {
    let x = 0;
    while (x === 0) x = rng.uniform(o.positive ? 0 : -scale, scale);
    return x;
  });
  return { shape, data };
}

describe("-O0 kernels vs the float64 reference", { timeout: 30_000 }, () => {
  let moec: MoecDevice;
  beforeAll(async () => {
    moec = await createNodeDevice();
  });
  afterAll(() => moec?.device.destroy());

  it("splits dispatches beyond 65535 workgroups into 2-D", async () => {
    // add over [T, 1024] with T = 4200: 4.3M invocations, 67200 workgroups of 64.
    const tokens = 4200;
    const add = CASES.find((x) => x.op === "add")!;
    const wide = { ...add, operands: add.operands.map((o) => ({ ...o, shape: [T, 1024] })) };
    const plan = buildPlan(singleOpGraph(wide));
    const groups = Math.ceil((tokens * 1024) / plan.kernels[0]!.dispatch.perWorkgroup);
    expect(groups).toBeGreaterThan(moec.device.limits.maxComputeWorkgroupsPerDimension);
    const inputs = new Map(wide.operands.map((o) => [o.name, operandData(o, tokens, 3)]));
    const session = await Session.create(moec.device, plan, new Map());
    const y = (await session.run(inputs, { poison: true })).outputs.get("out0")!.data;
    const [a, b] = [inputs.get("a")!.data, inputs.get("b")!.data];
    let mismatches = 0;
    for (let i = 0; i < y.length; i++) if (y[i] !== Math.fround(a[i]! + b[i]!)) mismatches++;
    expect(mismatches).toBe(0);
    session.destroy();
  });

  for (const c of CASES) {
    it(c.title, async () => {
      const graph = singleOpGraph(c);
      const plan = buildPlan(graph);
      const data = new Map(c.operands.map((o) => [o.name, operandData(o, c.tokens, 7)]));
      const inputs = new Map(
        c.operands.filter((o) => o.kind === "input").map((o) => [o.name, data.get(o.name)!]),
      );
      const weights = new Map(
        c.operands
          .filter((o) => o.kind === "weight")
          .map((o) => [o.name, data.get(o.name)!.data as Float32Array]),
      );
      const session = await Session.create(moec.device, plan, weights);
      const result = await session.run(inputs, { poison: true });
      const ref = runReference(
        graph,
        new Map([...inputs].map(([k, v]) => [k, toRef(v)])),
        new Map([...weights].map(([k, v]) => [k, toRef({ shape: data.get(k)!.shape, data: v })])),
      );
      for (const [name, expected] of ref.outputs) {
        const actual = result.outputs.get(name)!;
        expect(actual.shape).toEqual(expected.shape);
        if (actual.data instanceof Int32Array) {
          expect(Array.from(actual.data), name).toEqual(Array.from(expected.data));
        } else {
          expect(actual.data.every(Number.isFinite), `${name} has NaN/Inf (unwritten?)`).toBe(true);
          expect(relL2(actual.data, expected.data), name).toBeLessThan(1e-5);
        }
      }
      session.destroy();
      expect(moec.errors).toEqual([]);
    });
  }
});
