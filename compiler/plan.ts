// The execution plan: kernels (WGSL + explicit layouts), buffers with sizes as functions of the
// runtime dims, buffer reuse, dispatch order and routing sites. Plain JSON-serialisable data, so
// a page can load a precompiled model; the runtime (runtime/session.ts) needs nothing else.
import { type EmitContext, type EmittedKernel, type Dispatch } from "./codegen/kernels/common.js";
import {
  type KernelOp,
  type KernelTable,
  type NoKernelOp,
  UNFUSED_KERNELS,
} from "./codegen/kernels/index.js";
import { BASELINE_PROFILE, type DeviceProfile } from "./codegen/profile.js";
import {
  type SizeExpr,
  constantSize,
  dimSize,
  formatSize,
  mulSize,
  sameSymbols,
  shapeSize,
} from "./codegen/size.js";
import { type BindingKind, symbolField } from "./codegen/wgsl.js";
import type { Graph, Node } from "./ir/graph.js";
import type { InitKind, OpName } from "./ir/ops.js";
import { OPS } from "./ir/ops.js";
import { type DType, type Dim, bytesPerElement, formatDim, symbolsOf } from "./ir/types.js";

export const PLAN_FORMAT = "moec-plan/1";

export interface Plan {
  readonly format: typeof PLAN_FORMAT;
  readonly name: string;
  readonly profile: DeviceProfile;
  /** Graph symbols bound from the input shapes at run time (T, ...). */
  readonly symbols: readonly string[];
  /** The u32 fields of the uniform buffer every kernel reads, in order. */
  readonly params: readonly PlanParam[];
  readonly inputs: readonly PlanTensor[];
  readonly outputs: readonly PlanTensor[];
  readonly buffers: readonly PlanBuffer[];
  /** Where every IR value lives (weights, inputs and views included). */
  readonly values: readonly PlanValue[];
  /** Unique shaders; kernels refer to them by index (repeated layers share one). */
  readonly shaders: readonly PlanShader[];
  /** In dispatch order. */
  readonly kernels: readonly PlanKernel[];
  readonly routing: readonly PlanRoutingSite[];
}

export type PlanParam =
  | { readonly field: string; readonly kind: "symbol"; readonly symbol: string }
  | {
      /** C = expertCapacity(rows, topK, experts, factor), computed by the runtime. */
      readonly field: string;
      readonly kind: "capacity";
      readonly node: number;
      readonly rows: SizeExpr;
      readonly topK: number;
      readonly experts: number;
      readonly factor: number;
    };

export interface PlanTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  readonly value: number;
  readonly buffer: number;
  /** Token ids feeding an embedding must lie in [0, idLimit); checked before a run. */
  readonly idLimit?: number;
}

interface BufferBase {
  readonly id: number;
  readonly name: string;
  readonly bytes: SizeExpr;
}

export type PlanBuffer =
  | (BufferBase & { readonly kind: "params" })
  | (BufferBase & {
      readonly kind: "weight";
      readonly dtype: DType;
      readonly shape: readonly number[];
      readonly init: InitKind;
      readonly fanIn: number;
    })
  | (BufferBase & { readonly kind: "input" })
  | (BufferBase & {
      readonly kind: "activation";
      /** Root values (not views) it holds over the run, in order. */
      readonly values: readonly number[];
      /** Kernel indices of its first write and last read; kernels.length = read back. */
      readonly first: number;
      readonly last: number;
    });

export interface PlanValue {
  readonly value: number;
  readonly buffer: number;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  /** Still intact after the run (outputs, routing statistics, `keep`): readable by the runtime. */
  readonly kept: boolean;
}

export interface PlanShader {
  readonly wgsl: string;
  readonly entryPoint: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly layout: readonly { readonly binding: number; readonly type: BindingKind }[];
}

export interface PlanKernel {
  /** `k03_linear_moe.router`: index, what it computes, the scope of its first node. */
  readonly name: string;
  /** IR node ids it implements (several for fused kernels). */
  readonly nodes: readonly number[];
  readonly shader: number;
  readonly bindings: readonly { readonly binding: number; readonly buffer: number }[];
  readonly dispatch: Dispatch;
}

export interface PlanRoutingSite {
  readonly scope: string;
  readonly experts: number;
  readonly topK: number;
  readonly heads: number;
  /** Routed rows S (tokens times heads). */
  readonly rows: SizeExpr;
  /** Buffers of the statistics: counts i32[heads, E], top1 i32[E], probSum f32[E], dropped i32[heads]. */
  readonly counts: number;
  readonly top1: number;
  readonly probSum: number;
  readonly dropped: number;
}

export interface PlanOptions {
  /** Emitters for ops the unfused table lacks (the optimiser's fused ops). */
  readonly kernels?: Partial<KernelTable<KernelOp>>;
  /** Values to keep readable after the run (tests compare intermediate results). */
  readonly keep?: readonly number[];
  /** Reuse activation buffers whose lifetimes do not overlap (default true). */
  readonly reuse?: boolean;
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
  const ctx: EmitContext = {
    graph,
    profile,
    paramFields: params.map((p) => p.field),
    nodeParam: (node) => {
      const p = params.find((q) => q.kind === "capacity" && q.node === node);
      if (!p) throw new PlanError(`node ${node} has no runtime parameter`);
      return p.field;
    },
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

  const memory = planMemory(graph, emitted, params.length, options);
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
      ...kernel.operands.map((o) => ({ binding: o.binding, buffer: memory.bufferOf(o.value) })),
      { binding: kernel.paramsBinding, buffer: PARAMS_BUFFER },
    ].sort((a, b) => a.binding - b.binding);
    return { name, nodes: [node.id], shader, bindings, dispatch: kernel.dispatch };
  });

  for (const b of memory.buffers) {
    if (b.kind === "weight" && b.bytes.coef > profile.maxStorageBufferBindingSize) {
      throw new PlanError(
        `weight ${b.name} takes ${b.bytes.coef} bytes; profile ${profile.name} binds at most ${profile.maxStorageBufferBindingSize}`,
      );
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
  return op === "input" || op === "weight" || op === "split" || op === "join";
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
    const { experts, factor } = (node as Node<"capacity" | "moe_permute">).attrs;
    if (factor <= 0) continue;
    const [rows, k] = graph.values[node.inputs[0]!]!.type.shape;
    params.push({
      field: `cap_${node.id}`,
      kind: "capacity",
      node: node.id,
      rows: dimSize(rows!),
      topK: k as number,
      experts,
      factor,
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
): Memory {
  // root[v]: the value whose memory v occupies (itself unless v comes out of a view op).
  const root = graph.values.map((v) => v.id);
  for (const node of graph.nodes) {
    if (OPS[node.op].view) node.outputs.forEach((o) => (root[o] = root[node.inputs[0]!]!));
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
    return mulSize(shapeSize(t.shape), bytesPerElement(t.dtype));
  };

  for (const node of graph.nodes) {
    if (node.op !== "weight") continue;
    const { name, init, fanIn } = (node as Node<"weight">).attrs;
    const t = graph.values[node.outputs[0]!]!.type;
    bufferOfRoot.set(node.outputs[0]!, buffers.length);
    buffers.push({
      id: buffers.length,
      kind: "weight",
      name,
      bytes: bytesOf(node.outputs[0]!),
      dtype: t.dtype,
      shape: t.shape as number[],
      init,
      fanIn,
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
  return { buffers, values, bufferOf };
}

// ---------------------------------------------------------------------------------------------
// The text form (goldens, `moec plan`).

export function printPlan(plan: Plan): string {
  const lines: string[] = [];
  const shape = (s: readonly Dim[]) => `[${s.map(formatDim).join(", ")}]`;
  const buf = (id: number) => `b${id}`;
  lines.push(`plan ${plan.name} (${plan.format}, profile ${plan.profile.name})`);
  lines.push(
    `params: ${
      plan.params
        .map((p) =>
          p.kind === "symbol"
            ? `${p.field} = ${p.symbol}`
            : `${p.field} = capacity(rows=${formatSize(p.rows)}, top_k=${p.topK}, experts=${p.experts}, factor=${p.factor})`,
        )
        .join(", ") || "none"
    }`,
  );
  for (const [what, list] of [
    ["input", plan.inputs],
    ["output", plan.outputs],
  ] as const) {
    for (const t of list) {
      const limit = t.idLimit === undefined ? "" : ` ids < ${t.idLimit}`;
      lines.push(`${what} ${t.name}: ${t.dtype}${shape(t.shape)} in ${buf(t.buffer)}${limit}`);
    }
  }
  lines.push("buffers:");
  for (const b of plan.buffers) {
    const size = `${formatSize(b.bytes)} B`;
    if (b.kind === "params") lines.push(`  ${buf(b.id)} params (${plan.params.length} x u32)`);
    else if (b.kind === "weight")
      lines.push(`  ${buf(b.id)} weight ${b.name} ${b.dtype}[${b.shape.join(", ")}] ${size}`);
    else if (b.kind === "input") lines.push(`  ${buf(b.id)} input ${b.name} ${size}`);
    else {
      const live = `k${b.first}..${b.last === plan.kernels.length ? "end" : `k${b.last}`}`;
      lines.push(
        `  ${buf(b.id)} activation ${size} ${live} holds ${b.values.map((v) => `%${v}`).join(" ")}`,
      );
    }
  }
  lines.push("kernels:");
  for (const k of plan.kernels) {
    const s = plan.shaders[k.shader]!;
    const binds = k.bindings.map((b) => `${b.binding}=${buf(b.buffer)}`).join(" ");
    const groups = `ceil(${formatSize(k.dispatch.items)}/${k.dispatch.perWorkgroup})`;
    lines.push(
      `  ${k.name} nodes=${k.nodes.map((n) => `#${n}`).join(",")} shader=s${k.shader} wg=${s.workgroupSize[0]} groups=${groups} ${binds}`,
    );
  }
  lines.push("shaders:");
  plan.shaders.forEach((s, i) => {
    const layout = s.layout.map((e) => `${e.binding}:${e.type}`).join(" ");
    const users = plan.kernels.filter((k) => k.shader === i).length;
    lines.push(
      `  s${i} ${s.wgsl.split("\n").length - 1} lines, used by ${users}, layout ${layout}`,
    );
  });
  for (const r of plan.routing) {
    lines.push(
      `routing ${r.scope}: experts=${r.experts} top_k=${r.topK} heads=${r.heads} rows=${formatSize(r.rows)} counts=${buf(r.counts)} top1=${buf(r.top1)} prob_sum=${buf(r.probSum)} dropped=${buf(r.dropped)}`,
    );
  }
  return lines.join("\n") + "\n";
}
