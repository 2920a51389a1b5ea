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
  type PlanValue,
} from "../plan/format.js";
import { int8WordsPerRow, ternaryBufferBytes } from "../plan/bitnet.js";
import { formatBytes } from "../plan/bytes.js";
import { isDropless } from "../plan/capacity.js";
import { isStackedExpertName } from "../plan/weightNames.js";
import { BASELINE_PROFILE, type DeviceProfile } from "../plan/profile.js";
import {
  type SizeExpr,
  constantSize,
  dimSize,
  mulSize,
  sameSymbols,
  shapeSize,
} from "../plan/size.js";
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
import type { Graph, Node } from "./ir/graph.js";
import type { OpName } from "./ir/ops.js";
import { OPS } from "./ir/ops.js";
import { type DType, type Dim, bytesPerElement, formatDim, symbolsOf } from "./ir/types.js";

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

export class PlanError extends Error {}

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

  const tensor = (io: { name: string; value: number }): PlanTensor => {
    const t = graph.values[io.value]!.type;
    const limit = idLimits(graph).get(io.value);
    return {
      name: io.name,
      dtype: t.dtype,
      shape: t.shape,
      value: io.value,
      buffer: memory.bufferOf(io.value),
      ...(limit === undefined ? {} : { idLimit: limit }),
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

const PARAMS_BUFFER = 0;

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

/** For each input value that feeds an embedding as token ids: the vocabulary size. */
function idLimits(graph: Graph): Map<number, number> {
  const limits = new Map<number, number>();
  for (const node of graph.nodes) {
    if (node.op !== "embedding") continue;
    const vocab = graph.values[node.inputs[1]!]!.type.shape[0] as number;
    const ids = node.inputs[0]!;
    limits.set(ids, Math.min(vocab, limits.get(ids) ?? Infinity));
  }
  return limits;
}

interface Memory {
  readonly buffers: PlanBuffer[];
  readonly values: PlanValue[];
  bufferOf(value: number): number;
  /** The buffers of a value split across bindings, in order. */
  partsOf(value: number): readonly number[];
}

/**
 * Stacked expert weights larger than one binding of the profile, split by whole experts into as
 * few parts as fit: value -> element count of each part. Other weights are never split (a
 * matrix too large for one binding is reported by buildPlan).
 */
function expertSplits(graph: Graph, profile: DeviceProfile, half: boolean): Map<number, number[]> {
  const splits = new Map<number, number[]>();
  for (const node of graph.nodes) {
    if (node.op !== "weight" || !isStackedExpertName((node as Node<"weight">).attrs.name)) continue;
    const t = graph.values[node.outputs[0]!]!.type;
    if (t.dtype !== "f32") continue; // packed ternary banks are not split
    const [experts, ...slice] = t.shape as number[];
    const sliceElements = slice.reduce((a, b) => a * b, 1);
    const sliceBytes = sliceElements * (half ? 2 : 4);
    if (experts! * sliceBytes <= profile.maxStorageBufferBindingSize) continue;
    const perPart = Math.floor(profile.maxStorageBufferBindingSize / sliceBytes);
    if (perPart === 0) continue; // not even one expert fits: buildPlan says so
    // Halves are padded to whole words; keep parts even so each part's bytes stay exact.
    const per = half && sliceElements % 2 === 1 ? perPart - (perPart % 2) : perPart;
    if (per === 0) continue;
    const parts: number[] = [];
    for (let e = 0; e < experts!; e += per) parts.push(Math.min(per, experts! - e) * sliceElements);
    splits.set(node.outputs[0]!, parts);
  }
  return splits;
}

/**
 * Buffers: the uniform, one per weight and input, and activation buffers shared greedily by
 * values whose lifetimes [first write, last read] do not overlap. Views alias their input.
 */
function planMemory(
  graph: Graph,
  emitted: readonly { node: Node; kernel: EmittedKernel }[],
  paramCount: number,
  options: PlanOptions,
  halfValues: ReadonlySet<number>,
  splitValues: ReadonlyMap<number, readonly number[]>,
): Memory {
  const parts = new Map<number, number[]>();
  // root[v]: the value whose memory v occupies (itself unless v comes out of a view op).
  const root = graph.values.map((v) => v.id);
  for (const node of graph.nodes) {
    if (OPS[node.op].view) node.outputs.forEach((o) => (root[o] = root[node.inputs[0]!]!));
    const inPlace = OPS[node.op].inPlace;
    if (inPlace !== undefined) root[node.outputs[0]!] = root[node.inputs[inPlace]!]!;
  }
  const kernelOfNode = new Map(emitted.map(({ node }, k) => [node.id, k]));
  const end = emitted.length;

  const first = new Map<number, number>();
  const last = new Map<number, number>();
  for (const node of graph.nodes) {
    const k = kernelOfNode.get(node.id);
    if (k === undefined) continue;
    for (const v of node.outputs) first.set(root[v]!, k);
    for (const v of node.inputs) last.set(root[v]!, Math.max(last.get(root[v]!) ?? k, k));
  }
  const keptRoots = new Set(
    [
      ...graph.outputs.map((o) => o.value),
      ...graph.routing.flatMap((s) => [s.counts, s.top1, s.probSum, s.dropped]),
      ...(options.keep ?? []),
    ].map((v) => root[v]!),
  );
  for (const r of keptRoots) last.set(r, end);

  // Uniform structs are sized in multiples of 16 bytes.
  const paramBytes = constantSize(16 * Math.max(1, Math.ceil(paramCount / 4)));
  const buffers: PlanBuffer[] = [
    { id: PARAMS_BUFFER, kind: "params", name: "params", bytes: paramBytes },
  ];
  const bufferOfRoot = new Map<number, number>();
  const bytesOf = (v: number): SizeExpr => {
    const t = graph.values[v]!.type;
    return valueBytes(t.dtype, t.shape);
  };

  for (const node of graph.nodes) {
    if (node.op !== "weight") continue;
    const { name, init, fanIn } = (node as Node<"weight">).attrs;
    const t = graph.values[node.outputs[0]!]!.type;
    const value = node.outputs[0]!;
    const half = halfValues.has(value);
    // Halves are padded to whole 4-byte words, the unit of a storage binding.
    const bytes = (elements: number) =>
      half ? constantSize(4 * Math.ceil(elements / 2)) : constantSize(4 * elements);
    const split = splitValues.get(value);
    const base = {
      kind: "weight" as const,
      name,
      dtype: half ? "f16" : t.dtype,
      shape: t.shape as number[],
      init,
      fanIn,
    };
    bufferOfRoot.set(value, buffers.length);
    if (!split) {
      buffers.push({
        id: buffers.length,
        ...base,
        bytes: half ? bytes(shapeSize(t.shape).coef) : bytesOf(value),
      });
      continue;
    }
    const slice = shapeSize(t.shape).coef / (t.shape[0] as number);
    let start = 0;
    parts.set(value, []);
    for (const elements of split) {
      const end = start + elements / slice;
      parts.get(value)!.push(buffers.length);
      buffers.push({ id: buffers.length, ...base, bytes: bytes(elements), experts: [start, end] });
      start = end;
    }
  }
  for (const node of graph.nodes) {
    if (node.op !== "state") continue;
    const t = graph.values[node.outputs[0]!]!.type;
    if (!t.shape.every((d): d is number => typeof d === "number"))
      throw new PlanError(`state ${(node as Node<"state">).attrs.name} needs a fixed size`);
    bufferOfRoot.set(node.outputs[0]!, buffers.length);
    buffers.push({
      id: buffers.length,
      kind: "state",
      name: (node as Node<"state">).attrs.name,
      bytes: bytesOf(node.outputs[0]!),
      dtype: t.dtype,
      shape: t.shape,
    });
  }
  for (const input of graph.inputs) {
    bufferOfRoot.set(input.value, buffers.length);
    buffers.push({
      id: buffers.length,
      kind: "input",
      name: input.name,
      bytes: bytesOf(input.value),
    });
  }

  // Greedy interval allocation in order of first write; prefer the smallest fitting free buffer.
  interface Slot {
    id: number;
    bytes: SizeExpr;
    values: number[];
    first: number;
    last: number;
  }
  const slots: Slot[] = [];
  const reuse = options.reuse ?? true;
  const roots = [...first.keys()].sort((a, b) => first.get(a)! - first.get(b)! || a - b);
  for (const r of roots) {
    if (bufferOfRoot.has(r)) continue; // a state written in place has its own buffer
    const bytes = bytesOf(r);
    const start = first.get(r)!;
    const free = reuse ? slots.filter((s) => s.last < start && sameSymbols(s.bytes, bytes)) : [];
    const fitting = free
      .filter((s) => s.bytes.coef >= bytes.coef)
      .sort((a, b) => a.bytes.coef - b.bytes.coef);
    const slot = fitting[0] ?? free.sort((a, b) => b.bytes.coef - a.bytes.coef)[0];
    const stop = last.get(r) ?? start;
    if (slot) {
      slot.bytes = slot.bytes.coef >= bytes.coef ? slot.bytes : bytes;
      slot.values.push(r);
      slot.last = stop;
    } else {
      slots.push({
        id: buffers.length + slots.length,
        bytes,
        values: [r],
        first: start,
        last: stop,
      });
    }
    bufferOfRoot.set(r, (slot ?? slots[slots.length - 1]!).id);
  }
  for (const s of slots) {
    buffers.push({
      id: s.id,
      kind: "activation",
      name: `a${s.id}`,
      bytes: s.bytes,
      values: s.values,
      first: s.first,
      last: s.last,
    });
  }

  const bufferOf = (v: number): number => {
    const b = bufferOfRoot.get(root[v]!);
    if (b === undefined) throw new PlanError(`value %${v} has no buffer`);
    return b;
  };
  const values = graph.values.map((v): PlanValue => ({
    value: v.id,
    buffer: bufferOf(v.id),
    dtype: v.type.dtype,
    shape: v.type.shape,
    kept: buffers[bufferOf(v.id)]!.kind !== "activation" || keptRoots.has(root[v.id]!),
  }));
  const partsOf = (v: number) => parts.get(root[v]!) ?? [bufferOf(v)];
  return { buffers, values, bufferOf, partsOf };
}

/** Buffer bytes of a value; the packed BitNet types hold whole words per row (plan/bitnet.ts). */
function valueBytes(dtype: DType, shape: readonly Dim[]): SizeExpr {
  if (dtype === "t2") {
    if (!shape.every((d): d is number => typeof d === "number"))
      throw new PlanError(
        `ternary weights need fixed sizes, got [${shape.map(formatDim).join(", ")}]`,
      );
    return constantSize(ternaryBufferBytes(shape));
  }
  if (dtype === "i8") {
    const cols = shape[shape.length - 1];
    if (typeof cols !== "number") throw new PlanError("int8 rows need a fixed width");
    return mulSize(shapeSize(shape.slice(0, -1)), 4 * int8WordsPerRow(cols));
  }
  return mulSize(shapeSize(shape), bytesPerElement(dtype));
}

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
