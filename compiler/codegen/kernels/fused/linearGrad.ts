// The -O2 kernels of a dense linear's backward: dX = dY·W as the tiled product with W read
// transposed, and dW = Σ_rows dy ⊗ x as a sum of outer products in row order.
import type { Node } from "../../../ir/graph.js";
import { shapeSize } from "../../../../plan/size.js";
import { u32Literal as u } from "../../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter } from "../common.js";
import { emitGemm, gemmOutput, operand } from "../gemm/emit.js";
import { emitOuterProductSum, transposedWeight } from "../gemm/outer.js";
import { staticRows, storeWidth, tileGemm } from "../gemm/tiling.js";
import { denseRows, denseTiles } from "../gemm/tiles.js";
import { weightDims } from "./linear.js";

export function tiledLinearGradInput(
  node: Node<"linear_grad_input">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [dyv, wv] = node.inputs;
  const [out, inn] = weightDims(w, wv!);
  const rows = staticRows(w, dyv!);
  const cfg = tileGemm(w, {
    out: inn,
    inner: out,
    weights: 1,
    ...(rows !== undefined && { rows }),
  });
  const dy = operand(w, "dy", dyv!, cfg.vec);
  const weight = w.input("w", wv!);
  const dx = gemmOutput(w, "dx", node.outputs[0]!, storeWidth(cfg, inn));
  const kv = out / cfg.vec;
  denseTiles(w, cfg, shapeSize(w.type(dyv!).shape.slice(0, -1)), inn, (count) => {
    emitGemm(w, cfg, {
      out: inn,
      inner: out,
      ...denseRows(count, inn, w),
      a: (src, k) => `${dy}[${src} * ${u(kv)} + ${k}]`,
      b: [transposedWeight(weight, "0u", inn, cfg.vec)],
      output: dx,
      value: (_r, _c, [acc]) => acc!,
    });
  });
  return w.finish("linear_grad_input_tiled");
}

export function linearGradWeightSum(
  node: Node<"linear_grad_weight">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [xv, dyv] = node.inputs;
  const rows = w.size(w.type(xv!).shape.slice(0, -1));
  emitOuterProductSum(w, {
    x: xv!,
    d: dyv!,
    dw: node.outputs[0]!,
    matrices: 1,
    positions: `for (var p = 0u; p < ${rows}; p++)`,
    dRow: "p",
    xRow: "p",
  });
  return w.finish("linear_grad_weight_sum");
}
