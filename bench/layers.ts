// Models built for comparisons: one layer wrapped as a model over x: f32[T, dim] (a dense GEMM,
// the dense FFN with an MoE layer's active multiply-adds, the SMoE an MH-MoE matches), and what an
// MoE layer looks like (width, experts, gating, per-token costs).
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { modelCost } from "../compiler/costs.js";
import { compileToIR } from "../compiler/index.js";
import type { Graph, Node } from "../compiler/ir/graph.js";
import { layerModelGraph } from "../compiler/layerModel.js";
import { nodeHost } from "../compiler/node/host.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A spec of the repository (path from its root) with `--set` overrides; throws if it fails. */
export function loadSpec(file: string, overrides: readonly string[]): Graph {
  const result = compileToIR(path.join(ROOT, file), nodeHost, { overrides: [...overrides] });
  if (!result.graph) throw new Error(`${file} with ${overrides.join(" ")} did not compile`);
  return result.graph;
}

/** A dense x·Wᵀ of `inner` -> `out` features (bias-free Linear), for GEMM benchmarks. */
export function denseGemmGraph(inner: number, out: number): Graph {
  return layerModelGraph(`Linear(${inner}, ${out}, bias = false)`, inner, nodeHost, {
    name: "DenseGemm",
    out,
    file: "dense_gemm.moe",
  });
}

/** What a single MoE layer looks like: width, experts' activation and gating, per-token costs. */
export interface MoeLayerInfo {
  readonly dim: number;
  readonly heads: number;
  readonly experts: number;
  readonly topK: number;
  readonly act: string;
  readonly gated: boolean;
  /** Multiply-adds per token, router logits excluded (the parity papers' measure). */
  readonly macsPerToken: number;
  /** Parameters, routers excluded. */
  readonly params: number;
}

/** The MoE layer a graph is, or undefined (no routing, several MoE blocks, not [T, d] -> [T, d]). */
export function moeLayerInfo(graph: Graph): MoeLayerInfo | undefined {
  if (graph.routing.length !== 1 || graph.inputs.length !== 1 || graph.outputs.length !== 1)
    return undefined;
  const x = graph.values[graph.inputs[0]!.value]!.type;
  const y = graph.values[graph.outputs[0]!.value]!.type;
  if (x.dtype !== "f32" || x.shape.length !== 2 || typeof x.shape[1] !== "number") return undefined;
  if (y.shape.length !== 2 || y.shape[1] !== x.shape[1]) return undefined;
  if (graph.nodes.some((n) => n.op === "attention")) return undefined;
  const up = graph.nodes.find((n) => n.op === "expert_up") as Node<"expert_up"> | undefined;
  if (!up) return undefined;
  const site = graph.routing[0]!;
  const cost = modelCost(graph, 1);
  return {
    dim: x.shape[1],
    heads: site.heads,
    experts: site.experts,
    topK: site.topK,
    act: up.attrs.act,
    gated: up.attrs.gated,
    macsPerToken: cost.macsPerToken - cost.routerMacsPerToken,
    params: cost.params - cost.routerParams,
  };
}

/**
 * The dense FFN with the MoE layer's active multiply-adds per token (same activation and gating):
 * hidden = macs / (3·dim) gated, macs / (2·dim) otherwise, rounded to a multiple of 8.
 */
export function denseFfnFor(info: MoeLayerInfo): {
  graph: Graph;
  hidden: number;
  macsPerToken: number;
} {
  const perHidden = (info.gated ? 3 : 2) * info.dim;
  const hidden = Math.max(8, Math.round(info.macsPerToken / perHidden / 8) * 8);
  const layer = `FFN(${info.dim}, ${hidden}, act = ${info.act}, gated = ${info.gated})`;
  return {
    graph: layerModelGraph(layer, info.dim, nodeHost, {
      name: "DenseFFN",
      file: "dense_ffn.moe",
    }),
    hidden,
    macsPerToken: perHidden * hidden,
  };
}

/**
 * The SMoE an MH-MoE matches: same width, top-k, activation and gating, expert width for the
 * same multiply-adds per token (a multiple of 8), experts for the same parameters.
 */
export function matchedSmoeFor(info: MoeLayerInfo): {
  graph: Graph;
  ffn: number;
  experts: number;
  macsPerToken: number;
} {
  const perWidth = (info.gated ? 3 : 2) * info.dim;
  const ffn = Math.max(8, Math.round(info.macsPerToken / (perWidth * info.topK) / 8) * 8);
  const experts = Math.max(info.topK, Math.round(info.params / (perWidth * ffn)));
  const layer =
    `SMoE(${info.dim}, experts = ${experts}, top_k = ${info.topK}, ffn = ${ffn}, ` +
    `act = ${info.act}, gated = ${info.gated})`;
  return {
    graph: layerModelGraph(layer, info.dim, nodeHost, {
      name: "MatchedSMoE",
      file: "matched_smoe.moe",
      imports: 'import "std/moe.moe"\n',
    }),
    ffn,
    experts,
    macsPerToken: perWidth * ffn * info.topK,
  };
}
