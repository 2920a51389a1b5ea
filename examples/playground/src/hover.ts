// What the editor's hover shows at a source position, read from the lowered graph: the values a
// call there makes (op and shape), and for a layer instance its parameters and FLOPs per token.
// Built-in layer names show their signature from the compiler's table.
import { BUILTIN_LAYERS } from "../../../compiler/builtins.js";
import { nodeCost } from "../../../compiler/costs.js";
import type { Graph, Node } from "../../../compiler/ir/graph.js";
import { formatType, symbolsOf } from "../../../compiler/ir/types.js";
import type { Span } from "../../../grammar/ast.js";
import { layerSignature } from "./moeLanguage.js";

export interface HoverInfo {
  readonly title: string;
  readonly lines: readonly string[];
}

const contains = (s: Span, line: number, column: number): boolean =>
  (s.line < line || (s.line === line && s.column <= column)) &&
  (s.endLine > line || (s.endLine === line && s.endColumn >= column));

const spanSize = (s: Span): number => (s.endLine - s.line) * 10_000 + (s.endColumn - s.column);

const count = (n: number): string =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} G`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(2)} M`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} k`
        : String(Math.round(n));

/** Parameters and FLOPs per token of every node under a scope (the instance and its children). */
export function scopeCost(graph: Graph, scope: string): { params: number; flops: number } {
  const bindings: Record<string, number> = {};
  for (const v of graph.values) for (const s of symbolsOf(v.type.shape)) bindings[s] = 1;
  let params = 0;
  let flops = 0;
  for (const node of graph.nodes) {
    if (node.scope !== scope && !node.scope.startsWith(`${scope}.`)) continue;
    if (node.op === "weight") {
      params += graph.values[node.outputs[0]!]!.type.shape.reduce<number>(
        (a, d) => a * (typeof d === "number" ? d : 1),
        1,
      );
    } else if (node.op !== "input") flops += nodeCost(graph, node, bindings).flops;
  }
  return { params, flops };
}

/** Hover text at a 1-based line and column of `file`, or undefined where nothing is known. */
export function hoverAt(
  graph: Graph | undefined,
  file: string,
  line: number,
  column: number,
  word: string,
): HoverInfo | undefined {
  const builtin = BUILTIN_LAYERS.get(word);
  const hits = (graph?.nodes ?? []).filter(
    (n) => n.span.file === file && contains(n.span, line, column),
  );
  const lines: string[] = [];
  let title = builtin ? layerSignature(builtin) : word;
  if (hits.length > 0 && graph) {
    const smallest = Math.min(...hits.map((n) => spanSize(n.span)));
    const inner = hits.filter((n) => spanSize(n.span) === smallest);
    // A layer used in a repeat has one instance per block: show the first, count the rest.
    const scopes = [...new Set(inner.map((n) => n.scope))];
    const first = inner.filter((n) => n.scope === scopes[0]);
    const weights = first.filter((n) => n.op === "weight");
    const ops = first.filter((n) => n.op !== "weight" && n.op !== "route_stats");
    if (!builtin) title = scopes[0] ? `${word} — ${scopes[0]}` : word;
    for (const n of ops.slice(-3)) lines.push(valueLine(graph, n));
    for (const w of weights.slice(0, 4)) lines.push(valueLine(graph, w));
    if (scopes[0]) {
      const cost = scopeCost(graph, scopes[0]);
      lines.push(`${count(cost.params)} parameters, ${count(cost.flops)} FLOPs per token`);
    }
    if (scopes.length > 1) lines.push(`(${scopes.length} instances: ${scopes[0]}, …)`);
  }
  if (lines.length === 0 && graph) {
    // A layer instance by its binding name (`moe` in `moe = SMoE(...)` or `return moe(x)`): the
    // nodes it made sit in other files (the library), but their scope names it.
    const scope = scopeNamed(graph, word);
    if (scope) {
      title = scope === word ? `${word}: layer instance` : `${word}: layer instance ${scope}`;
      const inside = graph.nodes.filter(
        (n) => n.op !== "weight" && (n.scope === scope || n.scope.startsWith(`${scope}.`)),
      );
      const last = inside[inside.length - 1];
      if (last) lines.push(`output ${valueLine(graph, last)}`);
      const cost = scopeCost(graph, scope);
      lines.push(`${count(cost.params)} parameters, ${count(cost.flops)} FLOPs per token`);
    }
    const input = graph.inputs.find((i) => i.name === word);
    if (input) lines.push(`input ${word}: ${formatType(graph.values[input.value]!.type)}`);
  }
  if (!builtin && lines.length === 0) return undefined;
  return { title, lines };
}

/** The shortest instance path with a segment named `word` (`moe`, `blocks.1.ffn`), if any. */
function scopeNamed(graph: Graph, word: string): string | undefined {
  let best: string | undefined;
  for (const node of graph.nodes) {
    const parts = node.scope.split(".");
    const i = parts.indexOf(word);
    if (i < 0) continue;
    const scope = parts.slice(0, i + 1).join(".");
    if (best === undefined || scope.length < best.length) best = scope;
  }
  return best;
}

function valueLine(graph: Graph, node: Node): string {
  const types = node.outputs.map((v) => formatType(graph.values[v]!.type)).join(", ");
  const what =
    node.op === "weight" || node.op === "input" ? (node.attrs as { name: string }).name : node.op;
  return `${what}: ${types}`;
}
