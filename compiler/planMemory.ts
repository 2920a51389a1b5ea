// Where a plan's values live: the uniform, one buffer per weight (a stacked expert bank too large
// for one binding split by whole experts), per state and per input, and activation buffers shared
// by values whose lifetimes do not overlap. Views and in-place ops alias their input.
import type { PlanBuffer, PlanValue } from "../plan/format.js";
import { int8WordsPerRow, ternaryBufferBytes } from "../plan/bitnet.js";
import type { DeviceProfile } from "../plan/profile.js";
import { type SizeExpr, constantSize, mulSize, sameSymbols, shapeSize } from "../plan/size.js";
import { isStackedExpertName } from "../plan/weightNames.js";
import type { EmittedKernel } from "./codegen/kernels/common.js";
import type { Graph, Node } from "./ir/graph.js";
import { OPS } from "./ir/ops.js";
import { type DType, type Dim, bytesPerElement, formatDim } from "./ir/types.js";
import type { PlanOptions } from "./plan.js";
import { PlanError } from "./planError.js";

/** The uniform buffer of runtime parameters is always buffer 0. */
export const PARAMS_BUFFER = 0;

export interface Memory {
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
export function expertSplits(
  graph: Graph,
  profile: DeviceProfile,
  half: boolean,
): Map<number, number[]> {
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
export function planMemory(
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
