// One layer wrapped as a model: the source it writes, the graph it compiles to, and a layer that
// does not compile failing loudly with the diagnostics.
import { describe, expect, it } from "vitest";
import { layerModelGraph, layerModelSource } from "../../compiler/layerModel.js";
import { formatType } from "../../compiler/ir/types.js";
import { memoryHost } from "../../compiler/sources.js";
import { nodeHost } from "../../compiler/node/host.js";

describe("layerModel", () => {
  it("writes a model whose forward calls the layer once", () => {
    expect(layerModelSource("Linear(8, 4)", 8, { name: "Gemm", out: 4 })).toBe(
      "model Gemm() {\n  l = Linear(8, 4)\n" +
        "  forward(x: f32[T, 8]) -> y: f32[T, 4] {\n    return l(x)\n  }\n}\n",
    );
  });

  it("compiles a built-in layer to its ops, weights under the layer's name", () => {
    const graph = layerModelGraph("Linear(8, 4, bias = false)", 8, memoryHost({}), { out: 4 });
    expect(graph.nodes.map((n) => n.op)).toEqual(["weight", "input", "linear"]);
    expect((graph.nodes[0]!.attrs as { name: string }).name).toBe("l.weight");
    const out = graph.outputs[0]!.value;
    expect(formatType(graph.values[out]!.type)).toBe("f32[T, 4]");
  });

  it("resolves std/ imports through the host", () => {
    const graph = layerModelGraph("SMoE(dim = 8, experts = 4, top_k = 2, ffn = 16)", 8, nodeHost, {
      imports: 'import "std/moe.moe"\n',
    });
    expect(graph.nodes.some((n) => n.op === "route")).toBe(true);
  });

  it("throws with the diagnostics when the layer does not compile", () => {
    expect(() => layerModelGraph("Linear(8, 4)", 6, memoryHost({}))).toThrow(
      /layer model layer\.moe did not compile:[\s\S]*expects[\s\S]*model Layer/,
    );
  });
});
