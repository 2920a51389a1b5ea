// Builds the execution plan (plan/format.ts) from an optimised graph: one kernel per remaining
// node (fused ops have their own emitters), buffers with lifetimes and reuse, the uniform's
// runtime parameters and the routing sites.
import {
  PLAN_FORMAT,
  type Plan,
  type PlanBuffer,
  type PlanKernel,
  type PlanParam,
  type PlanShader,
  type PlanTensor,
} from "../plan/format.js";
import { formatBytes } from "../plan/bytes.js";
import { isDropless } from "../plan/capacity.js";
import { BASELINE_PROFILE, type DeviceProfile } from "../plan/profile.js";
import { dimSize } from "../plan/size.js";
import {
  type EmitContext,
  type EmittedKernel,
  type TilingChoices,
} from "./codegen/kernels/common.js";
import {
  type KernelOp,
  type KernelTable,
  type NoKernelOp,
  UNFUSED_KERNELS,
} from "./codegen/kernels/index.js";
import { symbolField } from "./codegen/wgsl.js";
import { PlanError } from "./planError.js";
import { PARAMS_BUFFER, expertSplits, planMemory } from "./planMemory.js";
import type { Graph, Node } from "./ir/graph.js";
import type { OpName } from "./ir/ops.js";
import { OPS } from "./ir/ops.js";
import { symbolsOf } from "./ir/types.js";

// The format's types and its printer live in plan/ (the runtime's side of the boundary).
export { PLAN_FORMAT } from "../plan/format.js";
export type * from "../plan/format.js";
export { printPlan } from "../plan/print.js";

export interface PlanOptions {
  /** Emitters for ops the unfused table lacks (the optimiser's fused ops). */
  readonly kernels?: Partial<KernelTable<KernelOp>>;
  /** Values to keep readable after the run (tests compare intermediate results). */
  readonly keep?: readonly number[];
  /** Reuse activation buffers whose lifetimes do not overlap (default true). */
  readonly reuse?: boolean;
  /** Codegen choices to fix (GEMM tiling fields); default: chosen per kernel. */
  readonly tiling?: TilingChoices;
  /**
   * How f32 weights are stored on the GPU: "f32" (default), or "f16" (half the memory; kernels
   * widen each load and compute in f32; needs the shader-f16 feature).
   */
  readonly weights?: "f32" | "f16";
}

export { PlanError } from "./planError.js";

/** Schedules the graph's nodes one kernel each (the -O0 path), in graph order. */
export function buildPlan(
  graph: Graph,
  profile: DeviceProfile = BASELINE_PROFILE,
  options: PlanOptions = {},
): Plan {
  const symbols = boundSymbols(graph);
  const params = planParams(graph, symbols);
  if (options.weights === "f16" && !profile.features.includes("shader-f16"))
    throw new PlanError(
      `f16 weights need the shader-f16 feature, which profile ${profile.name} lacks (use f32 weights)`,
    );
  const splitValues = expertSplits(graph, profile, options.weights === "f16");
  const halfValues = new Set(
    options.weights === "f16"
      ? graph.nodes.flatMap((n) =>
          n.op === "weight" && graph.values[n.outputs[0]!]!.type.dtype === "f32" ? n.outputs : [],
        )
      : [],
  );
  const ctx: EmitContext = {
    graph,
    profile,
    paramFields: params.map((p) => p.field),
    nodeParam: (node) => {
      const p = params.find((q) => q.kind === "capacity" && q.node === node);
      if (!p) throw new PlanError(`node ${node} has no runtime parameter`);
      return p.field;
    },
    ...(options.tiling && { tiling: options.tiling }),
    ...(halfValues.size > 0 && { halfValues }),
    ...(splitValues.size > 0 && { splitValues }),
  };

  // Kernels first (graph order), so buffer lifetimes can be expressed in kernel indices.
  const emitted: { node: Node; kernel: EmittedKernel }[] = [];
  for (const node of graph.nodes) {
    if (isNoKernel(node.op) || OPS[node.op].view) continue;
    const emit = (options.kernels?.[node.op] ??
      (UNFUSED_KERNELS as Partial<KernelTable<KernelOp>>)[node.op]) as
      ((n: Node, c: EmitContext) => EmittedKernel) | undefined;
    if (!emit)
      throw new PlanError(`no kernel for op '${node.op}' (node ${node.id}, ${node.scope})`);
    emitted.push({ node, kernel: emit(node, ctx) });
  }

  const memory = planMemory(graph, emitted, params.length, options, halfValues, splitValues);
  const shaders: PlanShader[] = [];
  const shaderIndex = new Map<string, number>();
  const width = Math.max(2, String(emitted.length - 1).length);
  const kernels = emitted.map(({ node, kernel }, k): PlanKernel => {
    const name = `k${String(k).padStart(width, "0")}_${kernel.label}${node.scope ? `_${node.scope}` : ""}`;
    const storage = kernel.shader.bindings.filter((b) => b.kind !== "uniform").length;
    if (storage > profile.maxStorageBuffersPerShaderStage) {
      throw new PlanError(
        `kernel ${name} needs ${storage} storage buffers; profile ${profile.name} allows ${profile.maxStorageBuffersPerShaderStage}`,
      );
    }
    let shader = shaderIndex.get(kernel.shader.code);
    if (shader === undefined) {
      shader = shaders.length;
      shaderIndex.set(kernel.shader.code, shader);
      shaders.push({
        wgsl: kernel.shader.code,
        entryPoint: "main",
        workgroupSize: kernel.shader.workgroupSize,
        layout: kernel.shader.bindings.map((b) => ({ binding: b.binding, type: b.kind })),
      });
    }
    const bindings = [
      ...kernel.operands.map((o) => ({
        binding: o.binding,
        buffer: o.part === undefined ? memory.bufferOf(o.value) : memory.partsOf(o.value)[o.part]!,
      })),
      { binding: kernel.paramsBinding, buffer: PARAMS_BUFFER },
    ].sort((a, b) => a.binding - b.binding);
    const gemm = kernel.gemm && { gemm: kernel.gemm };
    return { name, nodes: [node.id], shader, bindings, dispatch: kernel.dispatch, ...gemm };
  });

  for (const b of memory.buffers) {
    if (b.kind === "weight" && !b.experts && b.bytes.coef > profile.maxStorageBufferBindingSize) {
      throw new PlanError(oversizedWeight(b, profile));
    }
  }

  const [ids, positionsOf] = [idLimits(graph), positionLimits(graph)];
  const tensor = (io: { name: string; value: number }): PlanTensor => {
    const t = graph.values[io.value]!.type;
    const limit = ids.get(io.value);
    const positions = positionsOf.get(io.value);
    return {
      name: io.name,
      dtype: t.dtype,
      shape: t.shape,
      value: io.value,
      buffer: memory.bufferOf(io.value),
      ...(limit === undefined ? {} : { idLimit: limit }),
      ...(positions === undefined ? {} : { idLimit: positions, idKind: "positions" as const }),
    };
  };

  return {
    format: PLAN_FORMAT,
    name: graph.name,
    profile,
    symbols,
    params,
    inputs: graph.inputs.map(tensor),
    outputs: graph.outputs.map(tensor),
    buffers: memory.buffers,
    values: memory.values,
    shaders,
    kernels,
    routing: graph.routing.map((site) => {
      return {
        scope: site.scope,
        experts: site.experts,
        topK: site.topK,
        heads: site.heads,
        rows: dimSize(site.rows),
        counts: memory.bufferOf(site.counts),
        top1: memory.bufferOf(site.top1),
        probSum: memory.bufferOf(site.probSum),
        dropped: memory.bufferOf(site.dropped),
      };
    }),
  };
}

function isNoKernel(op: OpName): op is NoKernelOp {
  return op === "input" || op === "weight" || op === "state" || op === "split" || op === "join";
}

function boundSymbols(graph: Graph): string[] {
  const bound: string[] = [];
  for (const i of graph.inputs) {
    for (const s of symbolsOf(graph.values[i.value]!.type.shape))
      if (!bound.includes(s)) bound.push(s);
  }
  for (const v of graph.values) {
    for (const s of symbolsOf(v.type.shape)) {
      if (!bound.includes(s)) {
        throw new PlanError(`dimension ${s} of value %${v.id} is not fixed by any input's shape`);
      }
    }
  }
  return bound;
}

function planParams(graph: Graph, symbols: readonly string[]): PlanParam[] {
  const params: PlanParam[] = symbols.map((s) => ({
    field: symbolField(s),
    kind: "symbol",
    symbol: s,
  }));
  for (const node of graph.nodes) {
    // Capacity limits depend on the routed rows, known only at run time.
    if (node.op !== "capacity" && node.op !== "moe_permute") continue;
    const { experts, rule, capacity, admit } = (node as Node<"capacity" | "moe_permute">).attrs;
    const limit = { rule, capacity, admit };
    if (isDropless(limit)) continue;
    const [rows, k] = graph.values[node.inputs[0]!]!.type.shape;
    params.push({
      field: `cap_${node.id}`,
      kind: "capacity",
      node: node.id,
      rows: dimSize(rows!),
      topK: k as number,
      experts,
      limit,
    });
  }
  return params;
}

/**
 * For each value that `op` uses as row indices (input `indices`) into a tensor (input `table`):
 * the fewest rows of any such tensor, so the runtime can refuse an index past the end.
 */
function indexLimits(graph: Graph, op: "kv_write" | "embedding", indices: number, table: number) {
  const limits = new Map<number, number>();
  for (const node of graph.nodes) {
    if (node.op !== op) continue;
    const rows = graph.values[node.inputs[table]!]!.type.shape[0] as number;
    const index = node.inputs[indices]!;
    limits.set(index, Math.min(rows, limits.get(index) ?? Infinity));
  }
  return limits;
}

/** Positions a KV cache is written at: bounded by the cache's length. */
const positionLimits = (graph: Graph) => indexLimits(graph, "kv_write", 1, 2);
/** Token ids that feed an embedding: bounded by the vocabulary. */
const idLimits = (graph: Graph) => indexLimits(graph, "embedding", 0, 1);

/** Why a weight cannot be bound, and what would fit: how many of its leading rows one binding holds. */
function oversizedWeight(
  b: Extract<PlanBuffer, { kind: "weight" }>,
  profile: DeviceProfile,
): string {
  const limit = profile.maxStorageBufferBindingSize;
  const rowBytes = b.bytes.coef / Math.max(1, b.shape[0] ?? 1);
  const rows = Math.floor(limit / rowBytes);
  const fits =
    b.shape.length >= 2 && rows >= 1
      ? `at most ${rows} of its ${b.shape[0]} rows fit (a smaller vocabulary, fewer experts or narrower layers)`
      : "not even one row fits (narrower layers)";
  return (
    `weight ${b.name} [${b.shape.join(", ")}] needs ${formatBytes(b.bytes.coef)} in one binding; ` +
    `profile ${profile.name} binds at most ${formatBytes(limit)}: ${fits}; ` +
    `only stacked expert banks are split across bindings`
  );
}
