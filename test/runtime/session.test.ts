// The session's contract beyond numerics: weight validation and per-expert assembly, input
// checks, poisoning, errors that name the kernel, and buffers that grow with T.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileToIR } from "../../compiler/index.js";
import { weightDecls } from "../../compiler/ir/graph.js";
import { nodeHost } from "../../compiler/node/host.js";
import { type Plan, buildPlan } from "../../compiler/plan.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { MoecRunError, Session, ShaderCompileError } from "../../runtime/session.js";
import { initWeights } from "../../runtime/weights.js";
import { bitsOf, loadGraph, randomInputs } from "./helpers.js";

const graph = loadGraph("models/mh_moe.moe", ["dim=16", "experts=3", "ffn=8", "heads=2"]);
const LM_SETS = ["vocab=20", "dim=16", "layers=2", "experts=2", "moe_ffn=8"];
const lm = loadGraph("models/lm_smoe.moe", LM_SETS);

describe("Session", { timeout: 30_000 }, () => {
  let moec: MoecDevice;
  let plan: Plan;
  let weights: Map<string, Float32Array>;
  beforeAll(async () => {
    moec = await createNodeDevice();
    plan = buildPlan(graph);
    weights = initWeights(weightDecls(graph), 3);
  });
  afterAll(() => moec?.device.destroy());

  it("assembles stacked expert weights from per-expert tensors, and warns on extras", async () => {
    const inputs = randomInputs(graph, 5, 1);
    const stacked = await Session.create(moec.device, plan, weights);
    const expected = await stacked.run(inputs);

    const perExpert = new Map<string, Float32Array | { shape: number[]; data: Float32Array }>();
    for (const b of plan.buffers) {
      if (b.kind !== "weight") continue;
      const data = weights.get(b.name)!;
      if (!b.name.includes("{e}")) {
        perExpert.set(b.name, { shape: [...b.shape], data });
        continue;
      }
      const [experts, ...slice] = b.shape;
      const size = slice.reduce((a, c) => a * c, 1);
      for (let e = 0; e < experts!; e++) {
        perExpert.set(b.name.replace("{e}", String(e)), data.slice(e * size, (e + 1) * size));
      }
    }
    perExpert.set("moe.unused.weight", new Float32Array(4));
    const warnings: string[] = [];
    const assembled = await Session.create(moec.device, plan, perExpert, {
      warn: (m) => warnings.push(m),
    });
    const actual = await assembled.run(inputs);
    expect(bitsOf(actual.outputs.get("y")!)).toEqual(bitsOf(expected.outputs.get("y")!));
    expect(warnings).toEqual([
      "ignoring weights that model MHMoELayer does not use: moe.unused.weight",
    ]);
    stacked.destroy();
    assembled.destroy();
  });

  it("names missing and misshapen weights", async () => {
    const bad = new Map(weights);
    bad.delete("moe.router.weight");
    bad.set("moe.head.weight", new Float32Array(3));
    bad.delete("moe.experts_bank.{e}.up.weight");
    bad.set("moe.experts_bank.1.up.weight", new Float32Array(8 * 8));
    const error = await Session.create(moec.device, plan, bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MoecRunError);
    const message = (error as Error).message;
    expect(message).toContain("missing weight moe.router.weight [3, 8]");
    expect(message).toContain(
      "weight moe.head.weight has 3 values, expected 256 for shape [16, 16]",
    );
    expect(message).toContain(
      "missing weight moe.experts_bank.0.up.weight [8, 8] (or all experts stacked as moe.experts_bank.up.weight [3, 8, 8])",
    );
    const shaped = new Map<string, Float32Array | { shape: number[]; data: Float32Array }>(weights);
    shaped.set("moe.head.weight", { shape: [256], data: new Float32Array(256) });
    await expect(Session.create(moec.device, plan, shaped)).rejects.toThrow(
      "weight moe.head.weight has shape [256], expected [16, 16]",
    );
  });

  it("checks input names, dtypes, shapes and token ids", async () => {
    const session = await Session.create(moec.device, plan, weights);
    const x = { shape: [4, 16], data: new Float32Array(64).fill(0.5) };
    await expect(session.run(new Map())).rejects.toThrow("missing input 'x': f32[T, 16]");
    await expect(
      session.run(
        new Map([
          ["x", x],
          ["z", x],
        ]),
      ),
    ).rejects.toThrow("unknown input 'z'; MHMoELayer takes 'x'");
    await expect(session.run(new Map([["x", { shape: [4, 8], data: x.data }]]))).rejects.toThrow(
      "input 'x' must be f32[T, 16], got shape [4, 8]",
    );
    await expect(
      session.run(new Map([["x", { shape: [4, 16], data: new Int32Array(64) }]])),
    ).rejects.toThrow("input 'x' must be f32[T, 16] as a Float32Array, got a Int32Array");
    session.destroy();

    const lmPlan = buildPlan(lm);
    const lmSession = await Session.create(moec.device, lmPlan, initWeights(weightDecls(lm), 1));
    const ids = { shape: [3], data: Int32Array.from([1, 20, 2]) };
    await expect(lmSession.run(new Map([["ids", ids]]))).rejects.toThrow(
      "token id 20 at position 1 of input 'ids' is outside the vocabulary [0, 20)",
    );
    lmSession.destroy();
    // A generation plan's positions must lie inside its KV cache (here 8 positions).
    const decoding = compileToIR("models/lm_smoe.moe", nodeHost, {
      overrides: LM_SETS,
      decode: { context: 8 },
    }).graph!;
    const decoder = await Session.create(
      moec.device,
      buildPlan(decoding),
      initWeights(weightDecls(decoding), 1),
    );
    const step = (position: number) =>
      decoder.run(
        new Map([
          ["ids", { shape: [1], data: Int32Array.of(3) }],
          ["positions", { shape: [1], data: Int32Array.of(position) }],
        ]),
      );
    await expect(step(7)).resolves.toBeDefined();
    await expect(step(8)).rejects.toThrow(
      "position 8 at index 0 of input 'positions' is outside the KV cache's 8 positions [0, 8)",
    );
    decoder.destroy();
  });

  it("grows buffers with T and gives the same rows for a prefix (causal LM)", async () => {
    const session = await Session.create(
      moec.device,
      buildPlan(lm),
      initWeights(weightDecls(lm), 1),
    );
    const long = Int32Array.from({ length: 9 }, (_, i) => (i * 7) % 20);
    const short = await session.run(new Map([["ids", { shape: [4], data: long.slice(0, 4) }]]));
    const full = await session.run(new Map([["ids", { shape: [9], data: long }]]), {
      poison: true,
    });
    const again = await session.run(new Map([["ids", { shape: [4], data: long.slice(0, 4) }]]));
    const logits = (r: typeof short) => r.outputs.get("logits")!.data;
    expect(full.outputs.get("logits")!.shape).toEqual([9, 20]);
    expect(bitsOf(again.outputs.get("logits")!)).toEqual(bitsOf(short.outputs.get("logits")!));
    // Causal: the first 4 rows only see the first 4 tokens (per-row kernels, same sums).
    expect(Array.from(logits(full).slice(0, 80))).toEqual(Array.from(logits(short)));
    session.destroy();
  });

  it("reads back only the outputs asked for, and names an unknown one", async () => {
    const session = await Session.create(moec.device, plan, weights);
    const inputs = randomInputs(graph, 5, 2);
    const all = await session.run(inputs);
    const none = await session.run(inputs, { outputs: [] });
    expect([...none.outputs.keys()]).toEqual([]);
    expect(none.routing.length).toBe(all.routing.length);
    const name = plan.outputs[0]!.name;
    const one = await session.run(inputs, { outputs: [name] });
    expect(bitsOf(one.outputs.get(name)!)).toEqual(bitsOf(all.outputs.get(name)!));
    await expect(session.run(inputs, { outputs: ["nope"] })).rejects.toThrow(
      `has no output 'nope'; its outputs are ${name}`,
    );
    // lastRow: the output's final row alone, the same bits as in the whole read-back.
    const last = (await session.run(inputs, { lastRow: [name] })).outputs.get(name)!;
    const whole = all.outputs.get(name)!;
    const width = whole.shape.slice(1).reduce((a, b) => a * b, 1);
    expect(last.shape).toEqual([1, ...whole.shape.slice(1)]);
    expect(Array.from(bitsOf(last))).toEqual(
      Array.from(bitsOf(whole)).slice((whole.shape[0]! - 1) * width),
    );
    session.destroy();
  });

  it("poisoned buffers expose elements no kernel wrote", async () => {
    // Tamper with the plan: the last kernel (merge) gets no workgroups, so y is never written.
    const last = plan.kernels[plan.kernels.length - 1]!;
    const items = { ...last.dispatch.items, coef: 0 };
    const broken: Plan = {
      ...plan,
      kernels: [...plan.kernels.slice(0, -1), { ...last, dispatch: { ...last.dispatch, items } }],
    };
    const session = await Session.create(moec.device, broken, weights);
    const inputs = randomInputs(graph, 5, 2);
    const y = (await session.run(inputs, { poison: true })).outputs.get("y")!.data;
    expect(Array.from(y).every(Number.isNaN)).toBe(true);
    session.destroy();
  });

  it("reports WGSL errors with the kernel name and annotated source", async () => {
    const broken: Plan = {
      ...plan,
      shaders: plan.shaders.map((s, i) =>
        i === 1
          ? { ...s, wgsl: s.wgsl.replace("var acc", "var acc = undefined_thing;\n  var acc2") }
          : s,
      ),
    };
    const error = await Session.create(moec.device, broken, weights).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShaderCompileError);
    const { message, kernel } = error as ShaderCompileError;
    expect(kernel).toBe(plan.kernels.find((k) => k.shader === 1)!.name);
    expect(message).toMatch(/\n *\d+ \|   var acc = undefined_thing;/);
    expect(message).toMatch(/\| +\^ error: unresolved value 'undefined_thing'/);
  });

  it("names the kernel behind a validation error at run time", async () => {
    // Bind the uniform params buffer where kernel 2 expects a storage buffer.
    const broken: Plan = {
      ...plan,
      kernels: plan.kernels.map((k, i) =>
        i === 2
          ? { ...k, bindings: k.bindings.map((b, j) => (j === 0 ? { ...b, buffer: 0 } : b)) }
          : k,
      ),
    };
    const session = await Session.create(moec.device, broken, weights);
    const error = await session.run(randomInputs(graph, 3, 2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MoecRunError);
    expect((error as MoecRunError).kernel).toBe(plan.kernels[2]!.name);
    expect((error as Error).message).toContain(`kernel ${plan.kernels[2]!.name}:`);
    moec.errors.length = 0;
    session.destroy();
  });
});
