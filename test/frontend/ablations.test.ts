// The head/merge ablations shipped as specs: 2404.15045 Table 7 (head and merge MLPs of depth
// n = 0..3, ReLU between layers; models/mh_moe_depth.moe) and 2411.16205 Table 5 (head only,
// merge only, neither; models/mh_moe_parity_ablation.moe). Expected costs are computed here by
// hand from the layer sizes and compared with what compiler/costs.ts measures on the IR.
import { describe, expect, it } from "vitest";
import { nodeHost } from "../../compiler/node/host.js";
import { modelCost, weightList } from "../../compiler/costs.js";
import { compileToIR } from "../../compiler/index.js";
import type { Graph } from "../../compiler/ir/graph.js";

const d = 768;

function graphOf(file: string, overrides: string[]): Graph {
  const result = compileToIR(file, nodeHost, { overrides });
  expect(result.diagnostics.filter((x) => x.severity === "error")).toEqual([]);
  return result.graph!;
}

/** Parameters and multiply-adds per token of the blocks named `moe.head` and `moe.merge`. */
function projections(graph: Graph): { params: number; macs: number } {
  const cost = modelCost(graph);
  const blocks = cost.blocks.filter((b) => b.name === "moe.head" || b.name === "moe.merge");
  return {
    params: blocks.reduce((s, b) => s + b.params, 0),
    macs: blocks.reduce((s, b) => s + b.macsPerToken, 0),
  };
}

describe("2404.15045 Table 7: head and merge MLPs of depth n (models/mh_moe_depth.moe)", () => {
  // The NeurIPS form of models/mh_moe.moe: 4 heads, 8 SwiGLU experts of width 7936 on d/4.
  const experts = 8 * 3 * 7936 * (d / 4);
  for (const depth of [0, 1, 2, 3]) {
    it(`n = ${depth}: ${2 * depth} biased d x d layers around the experts`, () => {
      const graph = graphOf("models/mh_moe_depth.moe", [`depth=${depth}`]);
      const cost = modelCost(graph);
      expect(projections(graph)).toEqual({
        params: 2 * depth * (d * d + d),
        macs: 2 * depth * d * d,
      });
      expect(cost.expertParams).toBe(experts);
      expect(cost.params).toBe(experts + 2 * depth * (d * d + d) + 8 * (d / 4));
      // One ReLU between consecutive layers of each MLP, none after the last.
      const relus = graph.nodes.filter(
        (n) => n.op === "activation" && (n.attrs as { fn: string }).fn === "relu",
      );
      expect(relus.length).toBe(2 * Math.max(0, depth - 1));
    });
  }

  it("weight names: one Linear keeps models/mh_moe.moe's names; deeper MLPs index their layers", () => {
    const names = (depth: number) =>
      weightList(graphOf("models/mh_moe_depth.moe", [`depth=${depth}`, "dim=16", "ffn=8"]))
        .map((w) => w.name)
        .filter((n) => n.startsWith("moe.head") || n.startsWith("moe.merge"));
    expect(names(0)).toEqual([]);
    expect(names(1)).toEqual([
      "moe.head.weight",
      "moe.head.bias",
      "moe.merge.weight",
      "moe.merge.bias",
    ]);
    expect(names(2)).toEqual([
      "moe.head.layers.0.fc.weight",
      "moe.head.layers.0.fc.bias",
      "moe.head.layers.1.fc.weight",
      "moe.head.layers.1.fc.bias",
      "moe.merge.layers.0.fc.weight",
      "moe.merge.layers.0.fc.bias",
      "moe.merge.layers.1.fc.weight",
      "moe.merge.layers.1.fc.bias",
    ]);
  });

  it("depth 4 is outside the paper's range: an error at the model", () => {
    const result = compileToIR("models/mh_moe_depth.moe", nodeHost, { overrides: ["depth=4"] });
    expect(result.graph).toBeUndefined();
    expect(result.diagnostics.map((x) => x.message).join("\n")).toContain("depths are 0 to 3");
  });
});

describe("2411.16205 Table 5: head only, merge only, neither (models/mh_moe_parity_ablation.moe)", () => {
  // h = 2: 40 SwiGLU experts of width 768 on d/2, bias-free d x d projections.
  const experts = 40 * 3 * 768 * (d / 2);
  const variants: [string, string[], number][] = [
    ["head only (the default)", [], 1],
    ["merge only", ["head_proj=false", "merge_proj=true"], 1],
    ["neither", ["head_proj=false", "merge_proj=false"], 0],
    ["both (= models/mh_moe_parity.moe)", ["head_proj=true", "merge_proj=true"], 2],
  ];
  for (const [name, sets, layers] of variants) {
    it(`${name}: ${layers} d x d layer(s), the experts unchanged`, () => {
      const graph = graphOf("models/mh_moe_parity_ablation.moe", sets);
      expect(projections(graph)).toEqual({ params: layers * d * d, macs: layers * d * d });
      expect(modelCost(graph).expertParams).toBe(experts);
    });
  }

  it("both projections on costs exactly what models/mh_moe_parity.moe costs", () => {
    const a = modelCost(
      graphOf("models/mh_moe_parity_ablation.moe", ["head_proj=true", "merge_proj=true"]),
    );
    const b = modelCost(graphOf("models/mh_moe_parity.moe", []));
    expect([a.params, a.macsPerToken, a.flopsPerToken]).toEqual([
      b.params,
      b.macsPerToken,
      b.flopsPerToken,
    ]);
  });
});
