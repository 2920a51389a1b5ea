// Tiled dense GEMMs of the -O2 table: the linear with its epilogue, and the gated pair.
import type { Node } from "../../../ir/graph.js";
import { shapeSize } from "../../../../plan/size.js";
import { u32Literal as u } from "../../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "../common.js";
import { COMPONENTS, emitGemm, gemmOutput, operand } from "../gemm/emit.js";
import { staticRows, storeWidth, tileGemm } from "../gemm/tiling.js";
import { denseRows, denseTiles } from "../gemm/tiles.js";
import { activationFunction } from "../math.js";

export function weightDims(w: KernelWriter, value: number): [number, number] {
  return w.type(value).shape.map((d) => staticDim(d, "linear weight dims")) as [number, number];
}

/** act(x·Wᵀ + b) + residual, tiled; also the -O2 kernel of a plain linear. */
export function tiledLinear(
  node: Node<"linear"> | Node<"linear_epilogue">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const attrs =
    node.op === "linear_epilogue"
      ? node.attrs
      : { bias: node.inputs.length === 3, act: "none" as const, residual: false };
  const [xv, wv] = node.inputs;
  const bv = attrs.bias ? node.inputs[2] : undefined;
  const rv = attrs.residual ? node.inputs[attrs.bias ? 3 : 2] : undefined;
  const [out, inner] = weightDims(w, wv!);
  const cfg = tileGemm(w, { out, inner, weights: 1, ...rowsOf(w, xv!) });
  const x = operand(w, "x", xv!, cfg.vec);
  const weight = operand(w, "w", wv!, cfg.vec);
  const bias = bv === undefined ? undefined : w.input("b", bv);
  const sw = storeWidth(cfg, out);
  // The residual is read like the output is written: a vector per row of the invocation.
  const residual = rv === undefined ? undefined : operand(w, "residual", rv, sw);
  const y = gemmOutput(w, "y", node.outputs[0]!, sw);
  const act = attrs.act === "none" ? undefined : activationFunction(w.b, attrs.act);
  const kv = inner / cfg.vec;
  denseTiles(w, cfg, shapeSize(w.type(xv!).shape.slice(0, -1)), out, (rows) => {
    emitGemm(w, cfg, {
      out,
      inner,
      ...denseRows(rows, out, w),
      a: (src, k) => `${x}[${src} * ${u(kv)} + ${k}]`,
      b: [(col, k) => `${weight}[${col} * ${u(kv)} + ${k}]`],
      output: y,
      value: (r, c, [acc]) => {
        let v = `${acc}${bias ? ` + ${bias}[col${c}]` : ""}`;
        if (act) v = `${act}(${v})`;
        if (residual) {
          const res =
            sw > 1 ? `residual${r}.${COMPONENTS[c]}` : `${residual}[row${r} * ${u(out)} + col${c}]`;
          if (sw > 1 && c === 0)
            w.b.line(`let residual${r} = ${residual}[(row${r} * ${u(out)} + col0) / ${u(sw)}];`);
          v = `${v} + ${res}`;
        }
        return v;
      },
    });
  });
  return w.finish(
    node.op === "linear"
      ? "linear_tiled"
      : `linear${attrs.act === "none" ? "" : `_${attrs.act}`}${attrs.residual ? "_residual" : ""}`,
  );
}

/** act(x·Wgᵀ) ⊙ (x·Wuᵀ): the gated FFN's two products in one pass over x. */
export function linearGlu(node: Node<"linear_glu">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [xv, gv, uv] = node.inputs;
  const [out, inner] = weightDims(w, gv!);
  const cfg = tileGemm(w, { out, inner, weights: 2, ...rowsOf(w, xv!) });
  const x = operand(w, "x", xv!, cfg.vec);
  const gate = operand(w, "w_gate", gv!, cfg.vec);
  const up = operand(w, "w_up", uv!, cfg.vec);
  const y = gemmOutput(w, "y", node.outputs[0]!, storeWidth(cfg, out));
  const act = activationFunction(w.b, node.attrs.act);
  const kv = inner / cfg.vec;
  denseTiles(w, cfg, shapeSize(w.type(xv!).shape.slice(0, -1)), out, (rows) => {
    emitGemm(w, cfg, {
      out,
      inner,
      ...denseRows(rows, out, w),
      a: (src, k) => `${x}[${src} * ${u(kv)} + ${k}]`,
      b: [
        (col, k) => `${gate}[${col} * ${u(kv)} + ${k}]`,
        (col, k) => `${up}[${col} * ${u(kv)} + ${k}]`,
      ],
      output: y,
      value: (_r, _c, [g, p]) => `${act}(${g}) * ${p}`,
    });
  });
  return w.finish(`linear_glu_${node.attrs.act}`);
}

/** `{ rows }` when the compile fixed the row count (a decoding plan), for the tiling. */
function rowsOf(w: KernelWriter, x: number): { rows?: number } {
  const rows = staticRows(w, x);
  return rows === undefined ? {} : { rows };
}
