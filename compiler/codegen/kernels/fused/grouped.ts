// The grouped expert GEMMs: each expert's segment of the sorted assignments times its weights.
import type { Node } from "../../../ir/graph.js";
import type { Activation } from "../../../ir/ops.js";
import { shapeSize } from "../../../../plan/size.js";
import { f32Literal as f, u32Literal as u } from "../../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "../common.js";
import { emitGemm, gemmOutput, operand } from "../gemm/emit.js";
import { type GemmConfig, staticRows, storeWidth, tileGemm } from "../gemm/tiling.js";
import { groupedRows, groupedTiles } from "../gemm/tiles.js";
import { activationFunction } from "../math.js";

/** What the up projection's grouped GEMM binds, shared by moe_grouped_up and its gradient. */
export interface GroupedUp {
  readonly cfg: GemmConfig;
  readonly experts: number;
  readonly hidden: number;
  readonly inner: number;
  /** Choices per row: assignment a reads row a / k of x. */
  readonly k: number;
  /** Bindings: x, order, offsets, W1 (or the gate's), and Wup (gated) or b1 (biased). */
  readonly x: string;
  readonly order: string;
  readonly offsets: string;
  readonly w1: string;
  readonly extra?: string;
}

/**
 * Tiles the up projection x[a / k]·W1[e]ᵀ (with Wup[e] for gated experts) and binds its operands
 * from `inputs`, laid out as moe_grouped_up's: (x, expert, order, offsets, w1[, extra]).
 */
export function groupedUp(
  w: KernelWriter,
  inputs: readonly number[],
  { gated }: { readonly gated: boolean },
  assignments: number,
): GroupedUp {
  const [xv, , ov, offv, w1v, extrav] = inputs;
  const values = { x: xv!, order: ov!, offsets: offv!, w1: w1v!, extra: extrav };
  const [experts, hidden, inner] = w
    .type(values.w1)
    .shape.map((d) => staticDim(d, "expert weight dims")) as [number, number, number];
  const k = staticDim(w.type(assignments).shape[1], "top_k");
  // An expert's segment holds each row at most once: at most the rows of x.
  const rows = staticRows(w, values.x);
  const cfg = tileGemm(w, {
    out: hidden,
    inner,
    weights: gated ? 2 : 1,
    ...(rows !== undefined && { rows }),
  });
  if (cfg.share > 0) w.b.declare("diagnostic(off, subgroup_uniformity);");
  const x = operand(w, "x", values.x, cfg.vec);
  const order = w.input("order", values.order);
  const offsets = w.input("offsets", values.offsets);
  const w1 = operand(w, gated ? "w_gate" : "w1", values.w1, cfg.vec);
  const extra =
    values.extra === undefined
      ? undefined
      : gated
        ? operand(w, "w_up", values.extra, cfg.vec)
        : w.input("b1", values.extra);
  return { cfg, experts, hidden, inner, k, x, order, offsets, w1, ...(extra && { extra }) };
}

/** The B operands of the up projection: W1's (and Wup's) row `col` of expert `wbase`'s block. */
export function upWeights(up: GroupedUp, gated: boolean) {
  const kv = up.inner / up.cfg.vec;
  const weight = (name: string) => (col: string, kk: string) =>
    `${name}[(wbase + ${col}) * ${u(kv)} + ${kk}]`;
  return gated ? [weight(up.w1), weight(up.extra!)] : [weight(up.w1)];
}

/** H[a] = act(x[a / k]·W1[e]ᵀ + b1[e]) (or the gated pair) for the assignments of each segment. */
export function moeGroupedUp(node: Node<"moe_grouped_up">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { act, gated, bias } = node.attrs;
  const up = groupedUp(w, node.inputs, { gated }, node.outputs[0]!);
  const { cfg, experts, hidden, k, x, order, offsets, extra } = up;
  const h = gemmOutput(w, "h", node.outputs[0]!, storeWidth(cfg, hidden));
  const fn = activationFunction(w.b, act as Activation);
  const kv = up.inner / cfg.vec;
  const assignments = shapeSize(w.type(node.outputs[0]!).shape.slice(0, 2));
  groupedTiles(w, cfg, { offsets, experts, assignments, out: hidden }, () => {
    w.b.line(`let wbase = min(e, ${u(experts - 1)}) * ${u(hidden)};`);
    emitGemm(w, cfg, {
      out: hidden,
      inner: up.inner,
      ...groupedRows(order, hidden, w),
      source: (key) => `${key} / ${u(k)}`,
      a: (src, kk) => `${x}[${src} * ${u(kv)} + ${kk}]`,
      b: upWeights(up, gated),
      output: h,
      value: (_r, c, [a0, a1]) =>
        `select(${f(0)}, ${
          gated
            ? `${fn}(${a0}) * ${a1}`
            : `${fn}(${a0}${bias ? ` + ${extra}[wbase + col${c}]` : ""})`
        }, live)`,
    });
  });
  return w.finish(`moe_grouped_up${gated ? "_glu" : ""}_${act}`);
}

/** slots[a] = gate[a] · (H[a]·W2[e]ᵀ + b2[e]); dropped assignments get zeros. */
export function moeGroupedDown(node: Node<"moe_grouped_down">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [hv, , ov, offv, gv, w2v, b2v] = node.inputs;
  const [experts, out, inner] = w
    .type(w2v!)
    .shape.map((d) => staticDim(d, "expert weight dims")) as [number, number, number];
  // Gates are [rows, k]: an expert's segment holds at most one assignment per row.
  const rows = staticRows(w, gv!);
  const cfg = tileGemm(w, { out, inner, weights: 1, ...(rows !== undefined && { rows }) });
  if (cfg.share > 0) w.b.declare("diagnostic(off, subgroup_uniformity);");
  const hid = operand(w, "h", hv!, cfg.vec);
  const order = w.input("order", ov!);
  const offsets = w.input("offsets", offv!);
  const gate = w.input("gate", gv!);
  const w2 = operand(w, "w2", w2v!, cfg.vec);
  const b2 = b2v === undefined ? undefined : w.input("b2", b2v);
  const slots = gemmOutput(w, "slots", node.outputs[0]!, storeWidth(cfg, out));
  const kv = inner / cfg.vec;
  const assignments = shapeSize(w.type(node.outputs[0]!).shape.slice(0, 2));
  groupedTiles(w, cfg, { offsets, experts, assignments, out }, () => {
    w.b.line(`let wbase = min(e, ${u(experts - 1)}) * ${u(out)};`);
    emitGemm(w, cfg, {
      out,
      inner,
      ...groupedRows(order, out, w),
      row: (r, key, stores) =>
        w.b.block(`if (p0 + ${u(r)} >= lo && p0 + ${u(r)} < hi)`, () => {
          w.b.line(`let gate${r} = ${gate}[${key}];`);
          stores();
        }),
      source: (key) => key,
      a: (src, kk) => `${hid}[${src} * ${u(kv)} + ${kk}]`,
      b: [(col, kk) => `${w2}[(wbase + ${col}) * ${u(kv)} + ${kk}]`],
      output: slots,
      value: (r, c, [acc]) =>
        `select(${f(0)}, gate${r} * (${acc}${b2 ? ` + ${b2}[wbase + col${c}]` : ""}), live)`,
    });
  });
  return w.finish("moe_grouped_down");
}
