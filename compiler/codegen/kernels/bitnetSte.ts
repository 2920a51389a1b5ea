// -O0 kernels of BitNet training's fake quantisation (ir/ops/bitnetSte.ts): the forward values
// only, in f32 and with the rounding of the inference kernels (kernels/bitnet.ts). Their
// backward is the straight-through estimator, the identity, so it needs no kernel of its own.
import type { Node } from "../../ir/graph.js";
import { INT8_MAX, SCALE_EPS } from "../../../plan/bitnet.js";
import { constantSize, shapeSize } from "../../../plan/size.js";
import { f32Literal as f, u32Literal as u } from "../wgsl.js";
import { rowAbsmax } from "./bitnet.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";

/** Lanes of the workgroup that quantises one weight matrix. */
const MATRIX_LANES = 64;

/** y = clamp(round(x · 127 / absmax), −127, 127) · absmax / 127 per row (absmax ≥ ε). */
export function emitActQuantSte(node: Node<"act_quant_ste">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const shape = w.type(node.inputs[0]!).shape;
  const d = staticDim(shape[shape.length - 1], "quantised width");
  const x = w.input("x", node.inputs[0]!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(shape.slice(0, -1)), (i) => {
    rowAbsmax(w, x, i, d);
    w.b.line(`let back = a / ${f(INT8_MAX)};`);
    w.b.block(`for (var c = 0u; c < ${u(d)}; c++)`, () =>
      w.b.line(
        `${y}[base + c] = clamp(round(${x}[base + c] * s), ${f(-INT8_MAX)}, ${f(INT8_MAX)}) * back;`,
      ),
    );
  });
  return w.finish("act_quant_ste");
}

/**
 * One workgroup per matrix: γ = max(mean|W|, ε) summed in a fixed order (strided lane sums, then
 * a tree), then W̃ = clamp(round(W / γ), −1, 1) · γ.
 */
export function emitWeightQuantSte(
  node: Node<"weight_quant_ste">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const shape = w.type(node.inputs[0]!).shape.map((d) => staticDim(d, "weight dims"));
  const size = shape[shape.length - 1]! * shape[shape.length - 2]!;
  const matrices = shape.length === 3 ? shape[0]! : 1;
  const src = w.input("w", node.inputs[0]!);
  const dst = w.output("w_q", node.outputs[0]!);
  w.b.declare(`var<workgroup> lanes: array<f32, ${MATRIX_LANES}>;`);
  w.perWorkgroup(constantSize(matrices), u(matrices), MATRIX_LANES, (g, lid) => {
    w.b.line(`let base = ${g} * ${u(size)};`);
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var k = ${lid}; k < ${u(size)}; k += ${u(MATRIX_LANES)})`, () =>
      w.b.line(`acc += abs(${src}[base + k]);`),
    );
    w.b.line(`lanes[${lid}] = acc;`);
    w.b.line("workgroupBarrier();");
    w.b.block(
      `for (var stride = ${u(MATRIX_LANES / 2)}; stride > 0u; stride = stride / 2u)`,
      () => {
        w.b.block(`if (${lid} < stride)`, () =>
          w.b.line(`lanes[${lid}] += lanes[${lid} + stride];`),
        );
        w.b.line("workgroupBarrier();");
      },
    );
    w.b.line(`let gamma = max(lanes[0] / ${f(size)}, ${f(SCALE_EPS)});`);
    w.b.block(`for (var k = ${lid}; k < ${u(size)}; k += ${u(MATRIX_LANES)})`, () =>
      w.b.line(
        `${dst}[base + k] = clamp(round(${src}[base + k] / gamma), ${f(-1)}, ${f(1)}) * gamma;`,
      ),
    );
  });
  return w.finish("weight_quant_ste");
}
