// -O0 kernels of the column surgery's and per-row scaling's backward ops (ops/columnsGrad.ts):
// one invocation per output element or row, sums in a fixed order, no atomics.
import type { Node } from "../../ir/graph.js";
import { shapeSize } from "../../../plan/size.js";
import { f32Literal as f, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";

/** y[r, c] = x[r, c − start] inside the band, 0 outside it. */
export function emitPadCols(node: Node<"pad_cols">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const width = staticDim(w.type(node.inputs[0]!).shape[1], "padded band width");
  const { start, total } = node.attrs;
  const x = w.input("x", node.inputs[0]!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${u(total)};`);
    w.b.line(`let c = ${i} % ${u(total)};`);
    w.b.line(`let inside = c >= ${u(start)} && c < ${u(start + width)};`);
    // The load index is clamped into the band, so it stays in bounds where it is not used.
    w.b.line(
      `let v = ${x}[row * ${u(width)} + clamp(c, ${u(start)}, ${u(start + width - 1)}) - ${u(start)}];`,
    );
    w.b.line(`${y}[${i}] = select(${f(0)}, v, inside);`);
  });
  return w.finish("pad_cols");
}

/** dx[r, c] = Σ_{t < times} dy[r·times + t, c], t ascending. */
export function emitRepeatRowsGrad(
  node: Node<"repeat_rows_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const cols = staticDim(w.type(node.inputs[0]!).shape[1], "repeated width");
  const { times } = node.attrs;
  const dy = w.input("dy", node.inputs[0]!);
  const dx = w.output("dx", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${u(cols)};`);
    w.b.line(`let c = ${i} % ${u(cols)};`);
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var t = 0u; t < ${u(times)}; t++)`, () => {
      w.b.line(`acc += ${dy}[(row * ${u(times)} + t) * ${u(cols)} + c];`);
    });
    w.b.line(`${dx}[${i}] = acc;`);
  });
  return w.finish("repeat_rows_grad");
}

/** y[r, 0] = Σ_c a[r, c] · b[r, c], c ascending. */
export function emitRowDot(node: Node<"row_dot">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const cols = staticDim(w.type(node.inputs[0]!).shape[1], "row width");
  const a = w.input("a", node.inputs[0]!);
  const b = w.input("b", node.inputs[1]!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (r) => {
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var c = 0u; c < ${u(cols)}; c++)`, () => {
      w.b.line(`acc += ${a}[${r} * ${u(cols)} + c] * ${b}[${r} * ${u(cols)} + c];`);
    });
    w.b.line(`${y}[${r}] = acc;`);
  });
  return w.finish("row_dot");
}
