// The combine of the k expert outputs fused into its consumer: the merge linear, or the residual add.
import type { Node } from "../../../ir/graph.js";
import { shapeSize } from "../../../../plan/size.js";
import { u32Literal as u } from "../../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "../common.js";
import { emitGemm, gemmOutput, operand, vectorType } from "../gemm/emit.js";
import { storeWidth, tileGemm } from "../gemm/tiling.js";
import { denseRows, denseTiles } from "../gemm/tiles.js";
import { weightDims } from "./linear.js";

/**
 * join_h(Σ_j slots)·Wᵀ + b: the combine of the k expert outputs read while loading the merge
 * layer's operand. Sub-token s of row n is slots row n·h + s; its k slots are summed in order.
 */
export function combineLinear(node: Node<"combine_linear">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [sv, wv, bv] = node.inputs;
  const { heads } = node.attrs;
  const [, kw, subw] = w.type(sv!).shape;
  const k = staticDim(kw, "top_k");
  const sub = staticDim(subw, "sub-token width");
  const [out, inner] = weightDims(w, wv!);
  const cfg = tileGemm(w, { out, inner, weights: 1, align: [sub] });
  const slots = operand(w, "slots", sv!, cfg.vec);
  const weight = operand(w, "w", wv!, cfg.vec);
  const bias = bv === undefined ? undefined : w.input("b", bv);
  const y = gemmOutput(w, "y", node.outputs[0]!, storeWidth(cfg, out));
  const [kv, subv] = [inner / cfg.vec, sub / cfg.vec];
  const combined = w.b.helper("combined", () => {
    w.b.block(`fn combined(row: u32, kv: u32) -> ${vectorType(cfg.vec)}`, () => {
      w.b.line(
        `let base = ((row * ${u(heads)} + kv / ${u(subv)}) * ${u(k)}) * ${u(subv)} + kv % ${u(subv)};`,
      );
      w.b.line(`var s = ${slots}[base];`);
      for (let j = 1; j < k; j++) w.b.line(`s += ${slots}[base + ${u(j * subv)}];`);
      w.b.line("return s;");
    });
  });
  denseTiles(w, cfg, shapeSize(w.type(node.outputs[0]!).shape.slice(0, -1)), out, (rows) => {
    emitGemm(w, cfg, {
      out,
      inner,
      ...denseRows(rows, out, w),
      a: (src, kk) => `${combined}(${src}, ${kk})`,
      b: [(col, kk) => `${weight}[${col} * ${u(kv)} + ${kk}]`],
      output: y,
      value: (_r, c, [acc]) => `${acc}${bias ? ` + ${bias}[col${c}]` : ""}`,
    });
  });
  return w.finish("combine_linear");
}

/** residual + join_h(Σ_j slots): the combine fused into the residual add. */
export function emitCombineAdd(node: Node<"combine_add">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [sv, rv] = node.inputs;
  const { heads } = node.attrs;
  const [, kw, subw] = w.type(sv!).shape;
  const k = staticDim(kw, "top_k");
  const sub = staticDim(subw, "sub-token width");
  const slots = w.input("slots", sv!);
  const residual = w.input("residual", rv!);
  const y = w.output("y", node.outputs[0]!);
  const width = sub * heads;
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${u(width)};`);
    w.b.line(`let c = ${i} % ${u(width)};`);
    w.b.line(
      `let base = ((row * ${u(heads)} + c / ${u(sub)}) * ${u(k)}) * ${u(sub)} + c % ${u(sub)};`,
    );
    w.b.line(`var s = ${residual}[${i}];`);
    for (let j = 0; j < k; j++) w.b.line(`s += ${slots}[base + ${u(j * sub)}];`);
    w.b.line(`${y}[${i}] = s;`);
  });
  return w.finish("combine_add");
}
