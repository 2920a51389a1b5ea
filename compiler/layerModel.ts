// One layer wrapped as a model over x: f32[T, dim], for benchmarks and tests that exercise a
// single layer (a GEMM, a router, an expert bank) without writing a spec file for it.
import { formatDiagnostic } from "../grammar/diagnostics.js";
import { compileToIR } from "./index.js";
import type { Graph } from "./ir/graph.js";
import type { SourceHost } from "./sources.js";

export interface LayerModelOptions {
  /** The model's name (default `Layer`). */
  readonly name?: string;
  /** Output width (default: the input width). */
  readonly out?: number;
  /** Import lines before the model, e.g. `import "std/moe.moe"\n`. */
  readonly imports?: string;
}

/** The source of a model whose forward is `return l(x)` with `l = <layer>`. */
export function layerModelSource(
  layer: string,
  dim: number,
  options: LayerModelOptions = {},
): string {
  const { name = "Layer", out = dim, imports = "" } = options;
  return (
    `${imports}model ${name}() {\n  l = ${layer}\n` +
    `  forward(x: f32[T, ${dim}]) -> y: f32[T, ${out}] {\n    return l(x)\n  }\n}\n`
  );
}

/**
 * The IR of one layer wrapped as a model. `host` resolves the imports (std/); the model itself is
 * served from memory as `file`. The caller wrote the layer, so a spec that does not compile is a
 * programming error: it throws with the diagnostics and the source.
 */
export function layerModelGraph(
  layer: string,
  dim: number,
  host: SourceHost,
  options: LayerModelOptions & { readonly file?: string } = {},
): Graph {
  const file = options.file ?? "layer.moe";
  const source = layerModelSource(layer, dim, options);
  const result = compileToIR(file, {
    read: (path, within) => (path === file ? { text: source } : host.read(path, within)),
    stdRoot: host.stdRoot,
  });
  if (!result.graph) {
    const text = result.diagnostics
      .map((d) => formatDiagnostic(d, result.program.texts))
      .join("\n");
    throw new Error(`layer model ${file} did not compile:\n${text}\n${source}`);
  }
  return result.graph;
}
