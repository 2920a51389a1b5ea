// BitNet b1.58 models on Dawn against the float64 reference: the shipped BitNet specs at -O0 and
// -O2 (random non-zero inputs, poisoned outputs), f32 master weights quantised at load and
// packed weights giving the same bits, dot4I8Packed and the fallback giving the same bits, and
// malformed packed weights rejected with the tensor's name.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileGraph } from "../../compiler/compile.js";
import { type Graph, weightDecls, weightNodes } from "../../compiler/ir/graph.js";
import { runReference } from "../../compiler/ir/interpret.js";
import type { RefTensor } from "../../compiler/ir/ops.js";
import {
  dequantizeTernary,
  packTernary,
  ternaryBit,
  ternaryFromMaster,
  ternaryHeaderWords,
  ternaryWordsPerRow,
} from "../../plan/bitnet.js";
import { type DeviceProfile, profileOfDevice } from "../../plan/profile.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { Session, type TensorData, type WeightData } from "../../runtime/session.js";
import { initWeights } from "../../runtime/weights.js";
import { bitsOf, loadGraph, randomInputs, relL2, toRef } from "./helpers.js";

const SMALL = ["dim=32", "experts=4", "ffn=64"];
const CASES = [
  { file: "models/smoe_bitnet.moe", sets: [...SMALL, "top_k=2"] },
  { file: "models/smoe_bitnet.moe", sets: [...SMALL, "gated=false", "act=gelu"] },
  { file: "models/mh_moe_bitnet.moe", sets: [...SMALL, "heads=2", "top_k=2"] },
  // Widths that are not multiples of 4 (one output per invocation) or of 16 (padded words). With
  // these seeds the first of them meets one int8 rounding boundary (rel. L2 5e-4; 1e-7 on others).
  { file: "models/smoe_bitnet.moe", sets: ["dim=30", "experts=3", "ffn=42", "gated=false"] },
  { file: "models/mh_moe_bitnet.moe", sets: ["dim=30", "experts=3", "ffn=42", "heads=2"] },
];
const TOKENS = 13;

/**
 * A GPU run against the reference differs only in float rounding, except where an activation
 * lies at a rounding boundary of its int8 quantisation (x·127/absmax within ~1e-5 of a .5):
 * f32 and float64 may then round it one step apart. At these sizes that is rare; the tolerance
 * allows a few such steps and is still far below the error of a wrong kernel.
 */
const TOLERANCE = 1e-3;

let moec: MoecDevice;
beforeAll(async () => {
  moec = await createNodeDevice();
});
afterAll(() => moec?.device.destroy());

/** The reference's weights: t2 weights as their values γ·t, quantised like the runtime does. */
function referenceWeights(graph: Graph, weights: ReadonlyMap<string, Float32Array>) {
  const out = new Map<string, RefTensor>();
  for (const node of weightNodes(graph)) {
    const type = graph.values[node.outputs[0]!]!.type;
    const shape = type.shape as number[];
    const master = weights.get(node.attrs.name)!;
    const data =
      type.dtype === "t2"
        ? dequantizeTernary(ternaryFromMaster(node.attrs.name, master, shape), shape)
        : Float64Array.from(master);
    out.set(node.attrs.name, { shape, data });
  }
  return out;
}

function expertIds(graph: Graph): number[] {
  return graph.nodes
    .filter((n) => n.op === "route" || n.op === "moe_route")
    .map((n) => n.outputs[0]!);
}

async function runOnce(
  graph: Graph,
  plan: Parameters<typeof Session.create>[1],
  weights: ReadonlyMap<string, WeightData>,
  inputs: Map<string, TensorData>,
) {
  const session = await Session.create(moec.device, plan, weights);
  try {
    return await session.run(inputs, { poison: true, values: expertIds(graph) });
  } finally {
    session.destroy();
  }
}

describe.each([0, 2] as const)(
  "BitNet models at -O%i on Dawn vs the float64 reference",
  (level) => {
    for (const c of CASES) {
      it(`${c.file} ${c.sets.join(" ")}`, async () => {
        const lowered = loadGraph(c.file, c.sets);
        const { graph, plan } = compileGraph(lowered, {
          level,
          profile: profileOfDevice(moec),
          keep: expertIds,
        });
        expect(graph.nodes.some((n) => n.op === "bit_expert_up")).toBe(true);
        const weights = initWeights(plan, Number(process.env.MOEC_SEED ?? 3));
        const inputs = randomInputs(graph, TOKENS, 4 + Number(process.env.MOEC_SEED ?? 3));
        const result = await runOnce(graph, plan, weights, inputs);
        const ref = runReference(
          graph,
          new Map([...inputs].map(([k, v]) => [k, toRef(v)])),
          referenceWeights(graph, weights),
        );
        for (const v of expertIds(graph)) {
          expect(Array.from(result.values.get(v)!.data), "expert choices").toEqual(
            Array.from(ref.values[v]!.data),
          );
        }
        const y = result.outputs.get("y")!;
        const error = relL2(y.data, ref.outputs.get("y")!.data);
        if (process.env.MOEC_SHOW_ERRORS)
          process.stderr.write(
            `${c.file} ${c.sets.join(" ")} -O${level}: rel. L2 ${error.toExponential(2)}\n`,
          );
        expect(error).toBeLessThan(TOLERANCE);
        expect(moec.errors).toEqual([]);
      }, 60_000);
    }
  },
);

describe("BitNet weights and kernels", () => {
  const file = "models/smoe_bitnet.moe";
  const sets = [...SMALL, "top_k=2"];

  it("packed weights load to the same bits as f32 masters quantised at load", async () => {
    const { graph, plan } = compileGraph(loadGraph(file, sets), { level: 0, keep: expertIds });
    const weights = initWeights(plan, 5);
    const inputs = randomInputs(graph, TOKENS, 9);
    const fromMasters = await runOnce(graph, plan, weights, inputs);
    const packed = new Map<string, WeightData>();
    for (const node of weightNodes(graph)) {
      const type = graph.values[node.outputs[0]!]!.type;
      const master = weights.get(node.attrs.name)!;
      if (type.dtype !== "t2") {
        packed.set(node.attrs.name, master);
        continue;
      }
      // Stacked expert tensors, written per expert as a checkpoint would hold them.
      const [experts, rows, cols] = type.shape as [number, number, number];
      const buffer = ternaryFromMaster(node.attrs.name, master, [experts, rows, cols]);
      const scales = new Float32Array(buffer.buffer, 0, experts);
      const per = rows * ternaryWordsPerRow(cols);
      for (let e = 0; e < experts; e++) {
        const name = node.attrs.name.replace("{e}", String(e));
        const start = ternaryHeaderWords(experts) + e * per;
        packed.set(name, {
          shape: [rows, ternaryWordsPerRow(cols)],
          data: buffer.slice(start, start + per),
        });
        packed.set(`${name}_scale`, Float32Array.of(scales[e]!));
      }
    }
    const fromPacked = await runOnce(graph, plan, packed, inputs);
    expect(bitsOf(fromPacked.outputs.get("y")!)).toEqual(bitsOf(fromMasters.outputs.get("y")!));
  }, 60_000);

  it("gives the same bits with dot4I8Packed and with the plain integer fallback", async () => {
    const device = profileOfDevice(moec);
    expect(device.wgslLanguageFeatures).toContain("packed_4x8_integer_dot_product");
    const fallback: DeviceProfile = { ...device, wgslLanguageFeatures: [] };
    const lowered = loadGraph(file, sets);
    const weights = initWeights(weightDecls(lowered), 6);
    const inputs = randomInputs(lowered, TOKENS, 10);
    const outputs: Uint32Array[] = [];
    for (const profile of [device, fallback]) {
      const { graph, plan } = compileGraph(lowered, { level: 0, profile, keep: expertIds });
      const uses = plan.shaders.filter((s) => s.wgsl.includes("dot4I8Packed(")).length;
      expect(uses > 0).toBe(profile === device);
      outputs.push(bitsOf((await runOnce(graph, plan, weights, inputs)).outputs.get("y")!));
    }
    expect(outputs[1]).toEqual(outputs[0]);
  }, 60_000);

  it("rejects packed weights that are not ternary, naming the tensor", async () => {
    const { graph, plan } = compileGraph(loadGraph(file, sets), { level: 0, keep: expertIds });
    const weights = new Map<string, WeightData>(initWeights(plan, 5));
    const name = "moe.experts_bank.{e}.up.weight";
    const [experts, rows, cols] = graph.values[
      weightNodes(graph).find((n) => n.attrs.name === name)!.outputs[0]!
    ]!.type.shape as number[];
    weights.delete(name);
    for (let e = 0; e < experts!; e++) {
      const words = packTernary(new Array(rows! * cols!).fill(0), rows!, cols!);
      if (e === 2) words[3] = words[3]! | (3 << ternaryBit(4));
      const one = name.replace("{e}", String(e));
      weights.set(one, { shape: [rows!, ternaryWordsPerRow(cols!)], data: words });
      weights.set(`${one}_scale`, Float32Array.of(0.5));
    }
    await expect(Session.create(moec.device, plan, weights)).rejects.toThrow(
      /moe\.experts_bank\.2\.up\.weight: not ternary: row 1, column 20/,
    );
  }, 60_000);
});

describe("BitNet specs at full size", () => {
  for (const file of ["models/smoe_bitnet.moe", "models/mh_moe_bitnet.moe"]) {
    it(`${file}: every -O2 and -O0 shader compiles in Dawn`, async () => {
      for (const level of [0, 2] as const) {
        const { plan } = compileGraph(loadGraph(file), { level, profile: profileOfDevice(moec) });
        for (const shader of plan.shaders) {
          const module = moec.device.createShaderModule({ code: shader.wgsl });
          const info = await module.getCompilationInfo();
          expect(info.messages.filter((m) => m.type === "error").map((m) => m.message)).toEqual([]);
        }
      }
      expect(moec.errors).toEqual([]);
    }, 60_000);
  }
});
