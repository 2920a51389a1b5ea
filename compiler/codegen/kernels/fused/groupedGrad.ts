// The expert bank's backward over the counting sort's segments (ops/fusedMoeGrad.ts). Each
// kernel visits an expert's assignments only, in segment order: no scan over all assignments, no
// atomics, so the sums run in one fixed order and two runs give bitwise-identical gradients.
import type { Node } from "../../../ir/graph.js";
import { shapeSize } from "../../../../plan/size.js";
import { f32Literal as f, i32Literal as i32, u32Literal as u } from "../../wgsl.js";
import { activationDerivative } from "../backward.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "../common.js";
import { emitGemm, gemmOutput, operand } from "../gemm/emit.js";
import { emitOuterProductSum, transposedWeight } from "../gemm/outer.js";
import { staticRows, storeWidth, tileGemm } from "../gemm/tiling.js";
import { groupedRows, groupedTiles } from "../gemm/tiles.js";
import { groupedUp, upWeights } from "./grouped.js";
import { activationFunction } from "../math.js";

const dims = (w: KernelWriter, value: number, what: string) =>
  w.type(value).shape.map((d) => staticDim(d, what));

/**
 * dslot[a] = d[a]·W[e] per assignment: the grouped GEMM of moe_grouped_down with W read
 * transposed (K runs down W's columns, so a K-vector is gathered from `vec` rows of W).
 */
export function moeGroupedBackprop(
  node: Node<"moe_grouped_backprop">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [dv, ev, ov, offv, wv] = node.inputs;
  const [experts, out, inn] = dims(w, wv!, "expert weight dims") as [number, number, number];
  const rows = staticRows(w, ev!);
  const cfg = tileGemm(w, {
    out: inn,
    inner: out,
    weights: 1,
    ...(rows !== undefined && { rows }),
  });
  if (cfg.share > 0) w.b.declare("diagnostic(off, subgroup_uniformity);");
  const d = operand(w, "d", dv!, cfg.vec);
  const order = w.input("order", ov!);
  const offsets = w.input("offsets", offv!);
  const weight = w.input("w", wv!);
  const dx = gemmOutput(w, "dx", node.outputs[0]!, storeWidth(cfg, inn));
  const kv = out / cfg.vec;
  const assignments = shapeSize(w.type(node.outputs[0]!).shape.slice(0, 2));
  groupedTiles(w, cfg, { offsets, experts, assignments, out: inn }, () => {
    w.b.line(`let wbase = min(e, ${u(experts - 1)}) * ${u(out)};`);
    emitGemm(w, cfg, {
      out: inn,
      inner: out,
      ...groupedRows(order, inn, w),
      source: (key) => key,
      a: (src, kk) => `${d}[${src} * ${u(kv)} + ${kk}]`,
      b: [transposedWeight(weight, "wbase", inn, cfg.vec)],
      output: dx,
      value: (_r, _c, [acc]) => `select(${f(0)}, ${acc}, live)`,
    });
  });
  return w.finish("moe_grouped_backprop");
}

/**
 * dA = act'(a)·(u)·dh and dU = act(a)·dh, with a = x·W1[e]ᵀ (+ b1) and u = x·Wup[e]ᵀ recomputed
 * by the grouped GEMM of moe_grouped_up; zeros for a dropped assignment.
 */
export function moeGroupedUpGrad(
  node: Node<"moe_grouped_up_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { act, gated, bias } = node.attrs;
  const ins = node.inputs;
  // The up projection's operands, as moe_grouped_up lays them out; dh comes last.
  const up = groupedUp(w, ins.slice(0, -1), { gated }, node.outputs[0]!);
  const { cfg, experts, hidden, inner, k, x, order, offsets, extra } = up;
  const dh = w.input("dh", ins[ins.length - 1]!);
  const sw = storeWidth(cfg, hidden);
  const dA = gemmOutput(w, "d_a", node.outputs[0]!, sw);
  const dU = gated ? gemmOutput(w, "d_u", node.outputs[1]!, sw) : undefined;
  const fn = activationFunction(w.b, act);
  const fnPrime = activationDerivative(w.b, act);
  const kv = inner / cfg.vec;
  const assignments = shapeSize(w.type(node.outputs[0]!).shape.slice(0, 2));
  const upstream = (r: number, c: number) => `${dh}[dh_row${r} + col${c}]`;
  groupedTiles(w, cfg, { offsets, experts, assignments, out: hidden }, () => {
    w.b.line(`let wbase = min(e, ${u(experts - 1)}) * ${u(hidden)};`);
    emitGemm(w, cfg, {
      out: hidden,
      inner,
      ...groupedRows(order, hidden, w),
      row: (r, key, stores) =>
        w.b.block(`if (p0 + ${u(r)} >= lo && p0 + ${u(r)} < hi)`, () => {
          w.b.line(`let dh_row${r} = ${key} * ${u(hidden)};`);
          stores();
        }),
      source: (key) => `${key} / ${u(k)}`,
      a: (src, kk) => `${x}[${src} * ${u(kv)} + ${kk}]`,
      b: upWeights(up, gated),
      output: dA,
      value: (r, c, [a0, a1]) => {
        const pre = bias ? `${a0} + ${extra}[wbase + col${c}]` : a0!;
        const gate = gated ? ` * ${a1}` : "";
        return `select(${f(0)}, ${fnPrime}(${pre})${gate} * ${upstream(r, c)}, live)`;
      },
      moreOutputs: dU
        ? [
            {
              output: dU,
              value: (r, c, [a0]) => `select(${f(0)}, ${fn}(${a0}) * ${upstream(r, c)}, live)`,
            },
          ]
        : [],
    });
  });
  return w.finish(`moe_grouped_up_grad${gated ? "_glu" : ""}_${act}`);
}

/** dW[e] = Σ over segment e, in order, of d[a] ⊗ x[a] (x[a / k] when x is shared by the k). */
export function moeGroupedWeightGrad(
  node: Node<"moe_grouped_weight_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [xv, ev, ov, offv, dv] = node.inputs;
  const k = staticDim(w.type(ev!).shape[1], "top_k");
  const perChoice = w.type(xv!).shape.length === 3;
  const order = w.input("order", ov!);
  const offsets = w.input("offsets", offv!);
  emitOuterProductSum(w, {
    x: xv!,
    d: dv!,
    dw: node.outputs[0]!,
    matrices: node.attrs.experts,
    positions: `for (var p = u32(${offsets}[e]); p < u32(${offsets}[e + 1u]); p++)`,
    prelude: `let a = u32(${order}[p]);`,
    dRow: "a",
    xRow: perChoice ? "a" : `(a / ${u(k)})`,
  });
  return w.finish("moe_grouped_weight_grad");
}

/** Per assignment: dz = g·dy, dh = g·u and dgate = h·u; zeros when dropped. */
export function emitMoeDownGrad(node: Node<"moe_down_grad">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [hv, ev, gv, uv, dyv] = node.inputs;
  const hidden = staticDim(w.type(hv!).shape[2], "expert hidden width");
  const out = staticDim(w.type(dyv!).shape[2], "expert output width");
  const h = w.input("h", hv!);
  const expert = w.input("expert", ev!);
  const gate = w.input("gate", gv!);
  const up = w.input("u", uv!);
  const dy = w.input("dy", dyv!);
  const [dz, dgate, dh] = ["dz", "dgate", "dh"].map((name, j) => w.output(name, node.outputs[j]!));
  const [F, O] = [u(hidden), u(out)];
  w.perItem(shapeSize(w.type(gv!).shape), (a) => {
    w.b.line(`let dropped = ${expert}[${a}] < ${i32(0)};`);
    w.b.line(`let g = select(${gate}[${a}], ${f(0)}, dropped);`);
    w.b.line(`var dg = ${f(0)};`);
    w.b.block(`for (var c = 0u; c < ${F}; c++)`, () => {
      w.b.line(`let uc = ${up}[${a} * ${F} + c];`);
      w.b.line(`dg = fma(${h}[${a} * ${F} + c], uc, dg);`);
      w.b.line(`${dh}[${a} * ${F} + c] = g * uc;`);
    });
    w.b.block(`for (var o = 0u; o < ${O}; o++)`, () => {
      w.b.line(`${dz}[${a} * ${O} + o] = g * ${dy}[${a} * ${O} + o];`);
    });
    w.b.line(`${dgate}[${a}] = select(dg, ${f(0)}, dropped);`);
  });
  return w.finish("moe_down_grad");
}

/** Per assignment: dy[a]·b2[e], the bias term of dgate; 0 when dropped. */
export function emitMoeGateBiasGrad(
  node: Node<"moe_gate_bias_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [dyv, ev, bv] = node.inputs;
  const out = staticDim(w.type(dyv!).shape[2], "expert output width");
  const dy = w.input("dy", dyv!);
  const expert = w.input("expert", ev!);
  const b2 = w.input("b2", bv!);
  const db = w.output("dgate_bias", node.outputs[0]!);
  const O = u(out);
  w.perItem(shapeSize(w.type(ev!).shape), (a) => {
    w.b.line(`let e = ${expert}[${a}];`);
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var o = 0u; o < ${O}; o++)`, () => {
      w.b.line(`acc = fma(${dy}[${a} * ${O} + o], ${b2}[u32(max(e, ${i32(0)})) * ${O} + o], acc);`);
    });
    w.b.line(`${db}[${a}] = select(acc, ${f(0)}, e < ${i32(0)});`);
  });
  return w.finish("moe_gate_bias_grad");
}
