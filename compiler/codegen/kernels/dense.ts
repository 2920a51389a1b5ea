// Dense kernels of the transformer around the experts: linear, embedding, norms, elementwise.
import type { Node } from "../../ir/graph.js";
import { shapeSize } from "../../../plan/size.js";
import { f32Literal as f, i32Literal, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";
import { activationFunction } from "./math.js";

/** y = x·Wᵀ + b, one invocation per output element, summing in input order like the reference. */
export function emitLinear(node: Node<"linear">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [xv, wv, bv] = node.inputs;
  const [out, inn] = w.type(wv!).shape.map((d) => staticDim(d, "linear weight dims"));
  const x = w.input("x", xv!);
  const weight = w.input("w", wv!);
  const bias = bv === undefined ? undefined : w.input("b", bv);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${u(out!)};`);
    w.b.line(`let o = ${i} % ${u(out!)};`);
    w.b.line(`var acc = ${bias ? `${bias}[o]` : f(0)};`);
    w.b.block(`for (var k = 0u; k < ${u(inn!)}; k++)`, () => {
      w.b.line(`acc += ${x}[row * ${u(inn!)} + k] * ${weight}[o * ${u(inn!)} + k];`);
    });
    w.b.line(`${y}[${i}] = acc;`);
  });
  return w.finish("linear");
}

/** y[t, c] = table[ids[t], c]; ids are range-checked on the host, NaN marks any that slip by. */
export function emitEmbedding(node: Node<"embedding">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [idsv, tv] = node.inputs;
  const [vocab, dim] = w.type(tv!).shape.map((d) => staticDim(d, "embedding table dims"));
  const ids = w.input("ids", idsv!);
  const table = w.input("table", tv!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let id = ${ids}[${i} / ${u(dim!)}];`);
    w.b.block(`if (id < ${i32Literal(0)} || id >= ${i32Literal(vocab!)})`, () => {
      w.b.line(`${y}[${i}] = ${w.b.f32(NaN)};`);
      w.b.line("return;");
    });
    w.b.line(`${y}[${i}] = ${table}[u32(id) * ${u(dim!)} + ${i} % ${u(dim!)}];`);
  });
  return w.finish("embedding");
}

/** One invocation per row: y = x / sqrt(mean(x²) + eps) · w. */
export function emitRmsnorm(node: Node<"rmsnorm">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [xv, wv] = node.inputs;
  const shape = w.type(xv!).shape;
  const d = staticDim(shape[shape.length - 1], "rmsnorm width");
  const x = w.input("x", xv!);
  const weight = w.input("w", wv!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(shape.slice(0, -1)), (i) => {
    w.b.line(`let base = ${i} * ${u(d)};`);
    w.b.line(`var ss = ${f(0)};`);
    w.b.block(`for (var k = 0u; k < ${u(d)}; k++)`, () => {
      w.b.line(`let v = ${x}[base + k];`);
      w.b.line("ss += v * v;");
    });
    w.b.line(`let scale = ${f(1)} / sqrt(ss / ${f(d)} + ${f(node.attrs.eps)});`);
    w.b.block(`for (var k = 0u; k < ${u(d)}; k++)`, () => {
      w.b.line(`${y}[base + k] = ${x}[base + k] * scale * ${weight}[k];`);
    });
  });
  return w.finish("rmsnorm");
}

/** One invocation per row: two-pass mean and variance, like the reference. */
export function emitLayernorm(node: Node<"layernorm">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [xv, wv, bv] = node.inputs;
  const shape = w.type(xv!).shape;
  const d = staticDim(shape[shape.length - 1], "layernorm width");
  const x = w.input("x", xv!);
  const weight = w.input("w", wv!);
  const bias = w.input("b", bv!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(shape.slice(0, -1)), (i) => {
    w.b.line(`let base = ${i} * ${u(d)};`);
    w.b.line(`var mean = ${f(0)};`);
    w.b.block(`for (var k = 0u; k < ${u(d)}; k++)`, () => w.b.line(`mean += ${x}[base + k];`));
    w.b.line(`mean = mean / ${f(d)};`);
    w.b.line(`var variance = ${f(0)};`);
    w.b.block(`for (var k = 0u; k < ${u(d)}; k++)`, () => {
      w.b.line(`let c = ${x}[base + k] - mean;`);
      w.b.line("variance += c * c;");
    });
    w.b.line(`let scale = ${f(1)} / sqrt(variance / ${f(d)} + ${f(node.attrs.eps)});`);
    w.b.block(`for (var k = 0u; k < ${u(d)}; k++)`, () => {
      w.b.line(`${y}[base + k] = (${x}[base + k] - mean) * scale * ${weight}[k] + ${bias}[k];`);
    });
  });
  return w.finish("layernorm");
}

export function emitActivation(node: Node<"activation">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const x = w.input("x", node.inputs[0]!);
  const y = w.output("y", node.outputs[0]!);
  const fn = activationFunction(w.b, node.attrs.fn);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`${y}[${i}] = ${fn}(${x}[${i}]);`);
  });
  return w.finish(node.attrs.fn);
}

function emitBinary(node: Node<"add" | "sub" | "mul">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const a = w.input("a", node.inputs[0]!);
  const bb = w.input("b", node.inputs[1]!);
  const y = w.output("y", node.outputs[0]!);
  const op = { add: "+", sub: "-", mul: "*" }[node.op];
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`${y}[${i}] = ${a}[${i}] ${op} ${bb}[${i}];`);
  });
  return w.finish(node.op);
}

export const emitAdd = (node: Node<"add">, ctx: EmitContext) => emitBinary(node, ctx);
export const emitMul = (node: Node<"mul">, ctx: EmitContext) => emitBinary(node, ctx);
export const emitSub = (node: Node<"sub">, ctx: EmitContext) => emitBinary(node, ctx);

export function emitScale(node: Node<"scale">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const x = w.input("x", node.inputs[0]!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`${y}[${i}] = ${f(node.attrs.factor)} * ${x}[${i}];`);
  });
  return w.finish("scale");
}

export function emitScaleRows(node: Node<"scale_rows">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const width = staticDim(w.type(node.inputs[0]!).shape[1], "scaled row width");
  const x = w.input("x", node.inputs[0]!);
  const s = w.input("s", node.inputs[1]!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`${y}[${i}] = ${x}[${i}] * ${s}[${i} / ${u(width)}];`);
  });
  return w.finish("scale_rows");
}

/** y[r, c] = x[r, start + c]. */
export function emitSliceCols(node: Node<"slice_cols">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const cols = staticDim(w.type(node.inputs[0]!).shape[1], "sliced width");
  const { start, width } = node.attrs;
  const x = w.input("x", node.inputs[0]!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(
      `${y}[${i}] = ${x}[${i} / ${u(width)} * ${u(cols)} + ${u(start)} + ${i} % ${u(width)}];`,
    );
  });
  return w.finish("slice_cols");
}

/** y[r] = [a[r] | b[r]]. */
export function emitConcatCols(node: Node<"concat_cols">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const ca = staticDim(w.type(node.inputs[0]!).shape[1], "left width");
  const cb = staticDim(w.type(node.inputs[1]!).shape[1], "right width");
  const a = w.input("a", node.inputs[0]!);
  const b = w.input("b", node.inputs[1]!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${u(ca + cb)};`);
    w.b.line(`let c = ${i} % ${u(ca + cb)};`);
    w.b.line(
      `${y}[${i}] = select(${b}[row * ${u(cb)} + c - min(c, ${u(ca)})], ${a}[row * ${u(ca)} + min(c, ${u(ca - 1)})], c < ${u(ca)});`,
    );
  });
  return w.finish("concat_cols");
}

/** y[r] = x[r / times]. */
export function emitRepeatRows(node: Node<"repeat_rows">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const cols = staticDim(w.type(node.inputs[0]!).shape[1], "repeated width");
  const x = w.input("x", node.inputs[0]!);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(
      `${y}[${i}] = ${x}[${i} / ${u(cols * node.attrs.times)} * ${u(cols)} + ${i} % ${u(cols)}];`,
    );
  });
  return w.finish("repeat_rows");
}
