// -O0 kernels of the dense backward ops and the losses: one straightforward kernel per op, one
// invocation per output element (or row); every sum runs in a fixed order with no atomics, so a
// training step is bitwise reproducible.
import type { Node } from "../../ir/graph.js";
import type { Activation } from "../../ir/ops.js";
import { constantSize, dimSize, shapeSize } from "../../../plan/size.js";
import { type WgslBuilder, f32Literal as f, i32Literal as i32, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";
import { activationFunction } from "./math.js";

/** dx[r, i] = Σ_o dy[r, o] · W[o, i]. */
export function emitLinearGradInput(
  node: Node<"linear_grad_input">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [out, inn] = w.type(node.inputs[1]!).shape.map((d) => staticDim(d, "linear weight dims"));
  const dy = w.input("dy", node.inputs[0]!);
  const weight = w.input("w", node.inputs[1]!);
  const dx = w.output("dx", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${u(inn!)};`);
    w.b.line(`let c = ${i} % ${u(inn!)};`);
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var o = 0u; o < ${u(out!)}; o++)`, () => {
      w.b.line(`acc += ${dy}[row * ${u(out!)} + o] * ${weight}[o * ${u(inn!)} + c];`);
    });
    w.b.line(`${dx}[${i}] = acc;`);
  });
  return w.finish("linear_grad_input");
}

/** dW[o, i] = Σ_r dy[r, o] · x[r, i], rows ascending. */
export function emitLinearGradWeight(
  node: Node<"linear_grad_weight">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const xShape = w.type(node.inputs[0]!).shape;
  const [out, inn] = w.type(node.outputs[0]!).shape.map((d) => staticDim(d, "weight dims"));
  const x = w.input("x", node.inputs[0]!);
  const dy = w.input("dy", node.inputs[1]!);
  const dw = w.output("dw", node.outputs[0]!);
  const rows = w.size(xShape.slice(0, -1));
  w.perItem(constantSize(out! * inn!), (i) => {
    w.b.line(`let o = ${i} / ${u(inn!)};`);
    w.b.line(`let c = ${i} % ${u(inn!)};`);
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
      w.b.line(`acc += ${dy}[r * ${u(out!)} + o] * ${x}[r * ${u(inn!)} + c];`);
    });
    w.b.line(`${dw}[${i}] = acc;`);
  });
  return w.finish("linear_grad_weight");
}

/** s[c] = Σ_r dy[r, c], rows ascending. */
export function emitSumRows(node: Node<"sum_rows">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const shape = w.type(node.inputs[0]!).shape;
  const d = staticDim(shape[shape.length - 1], "width");
  const dy = w.input("dy", node.inputs[0]!);
  const s = w.output("s", node.outputs[0]!);
  const rows = w.size(shape.slice(0, -1));
  w.perItem(constantSize(d), (i) => {
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () =>
      w.b.line(`acc += ${dy}[r * ${u(d)} + ${i}];`),
    );
    w.b.line(`${s}[${i}] = acc;`);
  });
  return w.finish("sum_rows");
}

/** dTable[v, c] = Σ over positions t with ids[t] = v of dy[t, c], t ascending (no atomics). */
export function emitEmbeddingGrad(node: Node<"embedding_grad">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [vocab, dim] = w.type(node.outputs[0]!).shape.map((d) => staticDim(d, "table dims"));
  const ids = w.input("ids", node.inputs[0]!);
  const dy = w.input("dy", node.inputs[1]!);
  const dw = w.output("dw", node.outputs[0]!);
  const positions = w.size(w.type(node.inputs[0]!).shape);
  w.perItem(constantSize(vocab! * dim!), (i) => {
    w.b.line(`let v = i32(${i} / ${u(dim!)});`);
    w.b.line(`let c = ${i} % ${u(dim!)};`);
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var t = 0u; t < ${positions}; t++)`, () => {
      w.b.block(`if (${ids}[t] == v)`, () => w.b.line(`acc += ${dy}[t * ${u(dim!)} + c];`));
    });
    w.b.line(`${dw}[${i}] = acc;`);
  });
  return w.finish("embedding_grad");
}

/** The name of a WGSL function `fn(x: f32) -> f32` computing the activation's derivative. */
export function activationDerivative(b: WgslBuilder, act: Activation): string {
  // Declares the forward function and its helpers (erf_f32, which gelu's derivative uses).
  activationFunction(b, act);
  const name = `d_act_${act}`;
  return b.helper(name, () => {
    b.block(`fn ${name}(x: f32) -> f32`, () => {
      switch (act) {
        case "gelu":
          b.line(`let cdf = ${f(0.5)} * (${f(1)} + erf_f32(x * ${f(Math.SQRT1_2)}));`);
          b.line(`return cdf + x * exp(${f(-0.5)} * x * x) * ${f(1 / Math.sqrt(2 * Math.PI))};`);
          break;
        case "gelu_tanh":
          b.line(`let c = ${f(Math.sqrt(2 / Math.PI))};`);
          b.line(`let t = tanh(clamp(c * (x + ${f(0.044715)} * x * x * x), ${f(-10)}, ${f(10)}));`);
          b.line(
            `return ${f(0.5)} * (${f(1)} + t) + ${f(0.5)} * x * (${f(1)} - t * t) * c * (${f(1)} + ${f(3 * 0.044715)} * x * x);`,
          );
          break;
        case "silu":
          b.line(`let s = ${f(1)} / (${f(1)} + exp(-x));`);
          b.line(`return s * (${f(1)} + x * (${f(1)} - s));`);
          break;
        case "relu":
          b.line(`return select(${f(0)}, ${f(1)}, x > ${f(0)});`);
          break;
        case "sigmoid":
          b.line(`let s = ${f(1)} / (${f(1)} + exp(-x));`);
          b.line(`return s * (${f(1)} - s);`);
          break;
      }
    });
  });
}

export function emitActivationGrad(node: Node<"activation_grad">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const x = w.input("x", node.inputs[0]!);
  const dy = w.input("dy", node.inputs[1]!);
  const dx = w.output("dx", node.outputs[0]!);
  const fn = activationDerivative(w.b, node.attrs.fn);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`${dx}[${i}] = ${fn}(${x}[${i}]) * ${dy}[${i}];`);
  });
  return w.finish(`${node.attrs.fn}_grad`);
}

/** Row statistics of a norm's input at `base`: `mean` (0 for RMSNorm), `scale` = 1/sqrt(var + eps). */
function normStats(
  w: KernelWriter,
  x: string,
  d: number,
  kind: "rms" | "layer",
  eps: number,
): void {
  w.b.line(`var mean = ${f(0)};`);
  if (kind === "layer") {
    w.b.block(`for (var k = 0u; k < ${u(d)}; k++)`, () => w.b.line(`mean += ${x}[base + k];`));
    w.b.line(`mean = mean / ${f(d)};`);
  }
  w.b.line(`var ss = ${f(0)};`);
  w.b.block(`for (var k = 0u; k < ${u(d)}; k++)`, () => {
    w.b.line(`let c = ${x}[base + k] - mean;`);
    w.b.line("ss += c * c;");
  });
  w.b.line(`let scale = ${f(1)} / sqrt(ss / ${f(d)} + ${f(eps)});`);
}

/** One invocation per row: dx = s · (g − mean(g) − x̂ · mean(g ⊙ x̂)), g = dy ⊙ w. */
export function emitNormGradInput(node: Node<"norm_grad_input">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { kind, eps } = node.attrs;
  const shape = w.type(node.inputs[0]!).shape;
  const d = staticDim(shape[shape.length - 1], "norm width");
  const x = w.input("x", node.inputs[0]!);
  const weight = w.input("w", node.inputs[1]!);
  const dy = w.input("dy", node.inputs[2]!);
  const dx = w.output("dx", node.outputs[0]!);
  w.perItem(shapeSize(shape.slice(0, -1)), (i) => {
    w.b.line(`let base = ${i} * ${u(d)};`);
    normStats(w, x, d, kind, eps);
    w.b.line(`var g_mean = ${f(0)};`);
    w.b.line(`var gx_mean = ${f(0)};`);
    w.b.block(`for (var k = 0u; k < ${u(d)}; k++)`, () => {
      w.b.line(`let g = ${dy}[base + k] * ${weight}[k];`);
      w.b.line("g_mean += g;");
      w.b.line(`gx_mean += g * (${x}[base + k] - mean) * scale;`);
    });
    w.b.line(kind === "layer" ? `g_mean = g_mean / ${f(d)};` : `g_mean = ${f(0)};`);
    w.b.line(`gx_mean = gx_mean / ${f(d)};`);
    w.b.block(`for (var k = 0u; k < ${u(d)}; k++)`, () => {
      w.b.line(`let g = ${dy}[base + k] * ${weight}[k];`);
      w.b.line(`let xhat = (${x}[base + k] - mean) * scale;`);
      w.b.line(`${dx}[base + k] = scale * (g - g_mean - xhat * gx_mean);`);
    });
  });
  return w.finish(`${kind}norm_grad_input`);
}

/** dWeight[c] = Σ_r dy[r, c] · x̂[r, c], rows ascending (each row's statistics recomputed). */
export function emitNormGradWeight(
  node: Node<"norm_grad_weight">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { kind, eps } = node.attrs;
  const shape = w.type(node.inputs[0]!).shape;
  const d = staticDim(shape[shape.length - 1], "norm width");
  const x = w.input("x", node.inputs[0]!);
  const dy = w.input("dy", node.inputs[1]!);
  const dw = w.output("dw", node.outputs[0]!);
  const rows = w.size(shape.slice(0, -1));
  w.perItem(constantSize(d), (i) => {
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
      w.b.line(`let base = r * ${u(d)};`);
      normStats(w, x, d, kind, eps);
      w.b.line(`acc += ${dy}[base + ${i}] * (${x}[base + ${i}] - mean) * scale;`);
    });
    w.b.line(`${dw}[${i}] = acc;`);
  });
  return w.finish(`${kind}norm_grad_weight`);
}

/** A constant tensor. */
export function emitFill(node: Node<"fill">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const y = w.output("y", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`${y}[${i}] = ${f(node.attrs.value)};`);
  });
  return w.finish("fill");
}

/** Row r's log-sum-exp into `lse`, its offset into `base`; v the vocabulary. */
function rowLogSumExp(w: KernelWriter, logits: string, v: number): void {
  w.b.line(`let base = r * ${u(v)};`);
  w.b.line(`var m = ${logits}[base];`);
  w.b.block(`for (var c = 1u; c < ${u(v)}; c++)`, () =>
    w.b.line(`m = max(m, ${logits}[base + c]);`),
  );
  w.b.line(`var sum = ${f(0)};`);
  w.b.block(`for (var c = 0u; c < ${u(v)}; c++)`, () =>
    w.b.line(`sum += exp(${logits}[base + c] - m);`),
  );
  w.b.line("let lse = m + log(sum);");
}

/** One invocation sums the rows in order (a fixed order; the loss is one number). */
export function emitCrossEntropy(node: Node<"cross_entropy">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [t, vw] = w.type(node.inputs[0]!).shape;
  const v = staticDim(vw, "vocabulary");
  const logits = w.input("logits", node.inputs[0]!);
  const targets = w.input("targets", node.inputs[1]!);
  const loss = w.output("loss", node.outputs[0]!);
  const rows = w.size([t!]);
  w.perItem(constantSize(1), () => {
    w.b.line(`var total = ${f(0)};`);
    w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
      rowLogSumExp(w, logits, v);
      w.b.line(`let id = ${targets}[r];`);
      // Out-of-range targets are rejected on the host; NaN marks any that slip by.
      w.b.line(
        `let picked = select(${w.b.f32(NaN)}, ${logits}[base + u32(id)], id >= ${i32(0)} && id < ${i32(v)});`,
      );
      w.b.line("total += lse - picked;");
    });
    w.b.line(`${loss}[0] = total / f32(${rows});`);
  });
  return w.finish("cross_entropy");
}

/** One invocation per row: (softmax − onehot(target)) · dloss / T. */
export function emitCrossEntropyGrad(
  node: Node<"cross_entropy_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [t, vw] = w.type(node.inputs[0]!).shape;
  const v = staticDim(vw, "vocabulary");
  const logits = w.input("logits", node.inputs[0]!);
  const targets = w.input("targets", node.inputs[1]!);
  const dloss = w.input("dloss", node.inputs[2]!);
  const dl = w.output("dlogits", node.outputs[0]!);
  w.perItem(dimSize(t!), (item) => {
    w.b.line(`let r = ${item};`);
    rowLogSumExp(w, logits, v);
    w.b.line(`let scale = ${dloss}[0] / f32(${w.size([t!])});`);
    w.b.line(`let id = ${targets}[r];`);
    w.b.block(`for (var c = 0u; c < ${u(v)}; c++)`, () => {
      w.b.line(`let onehot = select(${f(0)}, ${f(1)}, i32(c) == id);`);
      w.b.line(`${dl}[base + c] = (exp(${logits}[base + c] - lse) - onehot) * scale;`);
    });
  });
  return w.finish("cross_entropy_grad");
}
