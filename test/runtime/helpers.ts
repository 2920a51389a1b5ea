// Shared by the runtime tests: compiling shipped models, random inputs, the float64 oracle and
// error measures. One Dawn device per test file (lavapipe on CI machines).
import { compileToIR } from "../../compiler/index.js";
import { type Graph, weightDecls } from "../../compiler/ir/graph.js";
import type { RefTensor } from "../../compiler/ir/ops.js";
import { resolveShape } from "../../compiler/ir/types.js";
import { formatDiagnostic } from "../../grammar/diagnostics.js";
import { nodeHost } from "../../compiler/node/host.js";
import { createRng, randomTensor } from "../../runtime/random.js";
import { type ReferenceResult, runReference } from "../../compiler/ir/interpret.js";
import type { TensorData } from "../../runtime/session.js";

export function loadGraph(file: string, overrides: readonly string[] = []): Graph {
  const result = compileToIR(file, nodeHost, { overrides });
  if (!result.graph) {
    const text = result.diagnostics
      .map((d) => formatDiagnostic(d, result.program.texts))
      .join("\n");
    throw new Error(`${file} did not compile:\n${text}`);
  }
  return result.graph;
}

/** Random inputs for T tokens: f32 in (-1, 1) without zeros, i32 token ids in [0, idLimit). */
export function randomInputs(
  graph: Graph,
  tokens: number,
  seed: number,
  idLimit = 1,
): Map<string, TensorData> {
  const inputs = new Map<string, TensorData>();
  for (const [i, input] of graph.inputs.entries()) {
    const type = graph.values[input.value]!.type;
    const shape = resolveShape(type.shape, { T: tokens });
    if (type.dtype === "i32") {
      const rng = createRng(seed, 1000 + i);
      const n = shape.reduce((a, b) => a * b, 1);
      inputs.set(input.name, {
        shape,
        data: Int32Array.from({ length: n }, () => rng.nextUint32() % idLimit),
      });
    } else {
      inputs.set(input.name, { shape, data: randomTensor(shape, seed + i) });
    }
  }
  return inputs;
}

export function toRef(t: TensorData): RefTensor {
  return { shape: t.shape, data: Float64Array.from(t.data) };
}

export function reference(
  graph: Graph,
  inputs: ReadonlyMap<string, TensorData>,
  weights: ReadonlyMap<string, Float32Array>,
): ReferenceResult {
  const refWeights = new Map(
    weightDecls(graph).map((w) => [w.name, toRef({ shape: w.shape, data: weights.get(w.name)! })]),
  );
  const refInputs = new Map([...inputs].map(([k, v]) => [k, toRef(v)]));
  return runReference(graph, refInputs, refWeights);
}

/** ||a - b|| / ||b||, with b the float64 reference. */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.sqrt(den);
}

export function bitsOf(t: TensorData): Uint32Array {
  return new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
}
