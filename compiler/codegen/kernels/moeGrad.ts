// -O0 kernels of the router's and the expert bank's backward ops, and the balance loss. A
// dropped assignment (expert -1) contributes zero everywhere. Per-expert weight gradients are
// sums over the assignments in a fixed order (rows ascending, then choices): no atomics, so two
// runs give bitwise-identical gradients.
import type { Node } from "../../ir/graph.js";
import { constantSize, dimSize, shapeSize } from "../../../plan/size.js";
import { f32Literal as f, i32Literal as i32, u32Literal as u } from "../wgsl.js";
import { activationDerivative } from "./backward.js";
import { GROUPED_RENORM_EPS } from "../../ir/ops.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";
import { activationFunction } from "./math.js";

/** One invocation per row: dl = p ⊙ (dp − Σ p·dp), plus the renormalised gates' own term. */
export function emitRouteGrad(node: Node<"route_grad">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { topK, gating } = node.attrs;
  const [n, ew] = w.type(node.inputs[2]!).shape;
  const e = staticDim(ew, "expert count");
  const [expert, gate, probs, dgate] = ["expert", "gate", "probs", "dgate"].map((name, j) =>
    w.input(name, node.inputs[j]!),
  );
  const dprobs = node.inputs.length === 5 ? w.input("dprobs", node.inputs[4]!) : undefined;
  const dl = w.output("dlogits", node.outputs[0]!);
  const [E, K] = [u(e), u(topK)];
  // dp_e: the probability's cotangent (with the gates' for "softmax", where gate = p).
  w.b.helper("dp_of", () => {
    w.b.block("fn dp_of(base: u32, out: u32, c: u32) -> f32", () => {
      w.b.line(`var dp = ${dprobs ? `${dprobs}[base + c]` : f(0)};`);
      if (gating === "softmax") {
        w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
          w.b.line(`dp += select(${f(0)}, ${dgate}[out + j], ${expert}[out + j] == i32(c));`);
        });
      }
      w.b.line("return dp;");
    });
  });
  w.perItem(dimSize(n!), (r) => {
    w.b.line(`let base = ${r} * ${E};`);
    w.b.line(`let out = ${r} * ${K};`);
    w.b.line(`var pdp = ${f(0)};`);
    w.b.block(`for (var c = 0u; c < ${E}; c++)`, () => {
      w.b.line(`pdp += ${probs}[base + c] * dp_of(base, out, c);`);
    });
    w.b.line(`var gd = ${f(0)};`);
    const renorm = gating === "renorm" || gating === "softmax_topk";
    if (renorm) {
      w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
        w.b.line(`gd += ${gate}[out + j] * ${dgate}[out + j];`);
      });
    }
    w.b.block(`for (var c = 0u; c < ${E}; c++)`, () => {
      w.b.line(`var g = ${probs}[base + c] * (dp_of(base, out, c) - pdp);`);
      if (gating === "sigmoid") {
        // gate = sigmoid(logit): d logit = dgate · gate · (1 - gate).
        w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
          w.b.block(`if (${expert}[out + j] == i32(c))`, () => {
            w.b.line(`g += ${dgate}[out + j] * ${gate}[out + j] * (${f(1)} - ${gate}[out + j]);`);
          });
        });
      } else if (renorm) {
        w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
          w.b.block(`if (${expert}[out + j] == i32(c))`, () => {
            w.b.line(`g += ${gate}[out + j] * (${dgate}[out + j] - gd);`);
          });
        });
      }
      w.b.line(`${dl}[base + c] = g;`);
    });
  });
  return w.finish(`route_grad_${gating}`);
}

/**
 * One invocation per row of DeepSeek-V3's router: the softmax backward of the probabilities
 * (when they carry a cotangent), plus each chosen expert's term through its sigmoid gate and the
 * renormalisation: ds_j = (scale · dg_j − Σ_i dg_i g_i) / (Σ_i s_i + ε).
 */
export function emitRouteGroupedGrad(
  node: Node<"route_grouped_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { topK, renorm, scale } = node.attrs;
  const [n, ew] = w.type(node.inputs[0]!).shape;
  const e = staticDim(ew, "expert count");
  const [logits, expert, dgate] = ["logits", "expert", "dgate"].map((name, j) =>
    w.input(name, node.inputs[j]!),
  );
  const withProbs = node.inputs.length === 5;
  const probs = withProbs ? w.input("probs", node.inputs[3]!) : undefined;
  const dprobs = withProbs ? w.input("dprobs", node.inputs[4]!) : undefined;
  const dl = w.output("dlogits", node.outputs[0]!);
  const [E, K] = [u(e), u(topK)];
  w.perItem(dimSize(n!), (r) => {
    w.b.line(`let base = ${r} * ${E};`);
    w.b.line(`let out = ${r} * ${K};`);
    w.b.line(`var s: array<f32, ${topK}>;`);
    w.b.line(`var kept_sum = ${f(0)};`);
    w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
      w.b.line(`s[j] = ${f(1)} / (${f(1)} + exp(-${logits}[base + u32(${expert}[out + j])]));`);
      w.b.line("kept_sum += s[j];");
    });
    w.b.line(`let d = ${renorm ? `kept_sum + ${f(GROUPED_RENORM_EPS)}` : f(1)};`);
    w.b.line(`var gd = ${f(0)};`);
    if (renorm) {
      w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
        w.b.line(`gd += ${dgate}[out + j] * (${f(scale)} * s[j] / d);`);
      });
    }
    if (probs && dprobs) {
      w.b.line(`var pdp = ${f(0)};`);
      w.b.block(`for (var c = 0u; c < ${E}; c++)`, () => {
        w.b.line(`pdp += ${probs}[base + c] * ${dprobs}[base + c];`);
      });
      w.b.block(`for (var c = 0u; c < ${E}; c++)`, () => {
        w.b.line(`${dl}[base + c] = ${probs}[base + c] * (${dprobs}[base + c] - pdp);`);
      });
    } else {
      w.b.block(`for (var c = 0u; c < ${E}; c++)`, () => w.b.line(`${dl}[base + c] = ${f(0)};`));
    }
    w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
      w.b.line(`let ds = (${f(scale)} * ${dgate}[out + j] - gd) / d;`);
      w.b.line(`let at = base + u32(${expert}[out + j]);`);
      w.b.line(`${dl}[at] = ${dl}[at] + ds * s[j] * (${f(1)} - s[j]);`);
    });
  });
  return w.finish(renorm ? "route_grouped_grad_renorm" : "route_grouped_grad");
}

export function emitCapacityGrad(node: Node<"capacity_grad">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const kept = w.input("kept", node.inputs[0]!);
  const dgate = w.input("dgate", node.inputs[1]!);
  const dg = w.output("dg", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`${dg}[${i}] = select(${dgate}[${i}], ${f(0)}, ${kept}[${i}] < ${i32(0)});`);
  });
  return w.finish("capacity_grad");
}

/** Per (assignment, o): recompute a (and u), then dA = act'(a)·u·dh and dU = act(a)·dh. */
export function emitExpertUpGrad(node: Node<"expert_up_grad">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { act, gated, bias } = node.attrs;
  const ins = node.inputs;
  const [, hidden, width] = w.type(ins[2]!).shape.map((dd) => staticDim(dd, "expert weight dims"));
  const k = staticDim(w.type(ins[1]!).shape[1], "top_k");
  const x = w.input("x", ins[0]!);
  const expert = w.input("expert", ins[1]!);
  const w1 = w.input("w1", ins[2]!);
  const wUp = gated ? w.input("w_up", ins[3]!) : undefined;
  const b1 = bias ? w.input("b1", ins[3]!) : undefined;
  const dh = w.input("dh", ins[ins.length - 1]!);
  const dA = w.output("d_a", node.outputs[0]!);
  const dU = gated ? w.output("d_u", node.outputs[1]!) : undefined;
  const fn = activationFunction(w.b, act);
  const fnPrime = activationDerivative(w.b, act);
  const [F, D] = [u(hidden!), u(width!)];
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let slot = ${i} / ${F};`);
    w.b.line(`let o = ${i} % ${F};`);
    w.b.line(`let e = ${expert}[slot];`);
    w.b.block(`if (e < ${i32(0)})`, () => {
      w.b.line(`${dA}[${i}] = ${f(0)};`);
      if (dU) w.b.line(`${dU}[${i}] = ${f(0)};`);
      w.b.line("return;");
    });
    w.b.line(`let row = (slot / ${u(k)}) * ${D};`);
    w.b.line(`let wrow = (u32(e) * ${F} + o) * ${D};`);
    w.b.line(`var a = ${b1 ? `${b1}[u32(e) * ${F} + o]` : f(0)};`);
    w.b.line(`var up = ${wUp ? f(0) : f(1)};`);
    w.b.block(`for (var c = 0u; c < ${D}; c++)`, () => {
      w.b.line(`a += ${x}[row + c] * ${w1}[wrow + c];`);
      if (wUp) w.b.line(`up += ${x}[row + c] * ${wUp}[wrow + c];`);
    });
    w.b.line(`${dA}[${i}] = ${fnPrime}(a) * up * ${dh}[${i}];`);
    if (dU) w.b.line(`${dU}[${i}] = ${fn}(a) * ${dh}[${i}];`);
  });
  return w.finish(`expert_up_grad_${act}${gated ? "_gated" : ""}`);
}

/** dIn through each assignment's W[e]; summed over the k choices (j ascending) when shared. */
export function emitExpertBackprop(node: Node<"expert_backprop">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { sumChoices } = node.attrs;
  const [, out, inn] = w
    .type(node.inputs[2]!)
    .shape.map((dd) => staticDim(dd, "expert weight dims"));
  const k = staticDim(w.type(node.inputs[1]!).shape[1], "top_k");
  const dout = w.input("dout", node.inputs[0]!);
  const expert = w.input("expert", node.inputs[1]!);
  const weight = w.input("w", node.inputs[2]!);
  const dx = w.output("dx", node.outputs[0]!);
  const [O, I] = [u(out!), u(inn!)];
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${I};`);
    w.b.line(`let c = ${i} % ${I};`);
    w.b.line(`var acc = ${f(0)};`);
    const body = (slot: string) => {
      w.b.line(`let a = ${slot};`);
      w.b.line(`let e = ${expert}[a];`);
      w.b.block(`if (e >= ${i32(0)})`, () => {
        w.b.block(`for (var o = 0u; o < ${O}; o++)`, () => {
          w.b.line(`acc += ${dout}[a * ${O} + o] * ${weight}[(u32(e) * ${O} + o) * ${I} + c];`);
        });
      });
    };
    if (sumChoices)
      w.b.block(`for (var j = 0u; j < ${u(k)}; j++)`, () => body(`row * ${u(k)} + j`));
    else body("row");
    w.b.line(`${dx}[${i}] = acc;`);
  });
  return w.finish(sumChoices ? "expert_backprop_sum" : "expert_backprop");
}

/** dW[e, o, i] = Σ over assignments a of expert e (rows, then choices) of d[a, o] · x[a, i]. */
export function emitExpertWeightGrad(
  node: Node<"expert_weight_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [experts, out, inn] = w
    .type(node.outputs[0]!)
    .shape.map((dd) => staticDim(dd, "weight dims"));
  const [n, kw] = w.type(node.inputs[1]!).shape;
  const k = staticDim(kw, "top_k");
  const perChoice = w.type(node.inputs[0]!).shape.length === 3;
  const x = w.input("x", node.inputs[0]!);
  const expert = w.input("expert", node.inputs[1]!);
  const dout = w.input("dout", node.inputs[2]!);
  const dw = w.output("dw", node.outputs[0]!);
  const [O, I, K] = [u(out!), u(inn!), u(k)];
  const rows = w.size([n!]);
  w.perItem(constantSize(experts! * out! * inn!), (i) => {
    w.b.line(`let e = i32(${i} / ${u(out! * inn!)});`);
    w.b.line(`let o = (${i} / ${I}) % ${O};`);
    w.b.line(`let c = ${i} % ${I};`);
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
      w.b.block(`for (var j = 0u; j < ${K}; j++)`, () => {
        w.b.line(`let a = r * ${K} + j;`);
        w.b.block(`if (${expert}[a] == e)`, () => {
          w.b.line(`acc += ${dout}[a * ${O} + o] * ${x}[${perChoice ? "a" : "r"} * ${I} + c];`);
        });
      });
    });
    w.b.line(`${dw}[${i}] = acc;`);
  });
  return w.finish("expert_weight_grad");
}

/** dB[e, o] = Σ over the assignments of expert e of d[a, o] (rows, then choices). */
export function emitExpertBiasGrad(
  node: Node<"expert_bias_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [experts, out] = w.type(node.outputs[0]!).shape.map((dd) => staticDim(dd, "bias dims"));
  const [n, kw] = w.type(node.inputs[0]!).shape;
  const k = staticDim(kw, "top_k");
  const expert = w.input("expert", node.inputs[0]!);
  const dout = w.input("dout", node.inputs[1]!);
  const db = w.output("db", node.outputs[0]!);
  w.perItem(constantSize(experts! * out!), (i) => {
    w.b.line(`let e = i32(${i} / ${u(out!)});`);
    w.b.line(`let o = ${i} % ${u(out!)};`);
    w.b.line(`var acc = ${f(0)};`);
    w.b.block(`for (var a = 0u; a < ${w.size([n!])} * ${u(k)}; a++)`, () => {
      w.b.block(`if (${expert}[a] == e)`, () => w.b.line(`acc += ${dout}[a * ${u(out!)} + o];`));
    });
    w.b.line(`${db}[${i}] = acc;`);
  });
  return w.finish("expert_bias_grad");
}

/** Per assignment: dz = g · dy, and dgate = Σ_o dy · (h·W2[e]ᵀ + b2[e]). */
export function emitExpertDownGrad(
  node: Node<"expert_down_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const ins = node.inputs;
  const [, out, hidden] = w.type(ins[3]!).shape.map((dd) => staticDim(dd, "expert weight dims"));
  const h = w.input("h", ins[0]!);
  const expert = w.input("expert", ins[1]!);
  const gate = w.input("gate", ins[2]!);
  const w2 = w.input("w2", ins[3]!);
  const b2 = node.attrs.bias ? w.input("b2", ins[4]!) : undefined;
  const dy = w.input("dy", ins[ins.length - 1]!);
  const dz = w.output("dz", node.outputs[0]!);
  const dgate = w.output("dgate", node.outputs[1]!);
  const [O, F] = [u(out!), u(hidden!)];
  w.perItem(shapeSize(w.type(ins[2]!).shape), (a) => {
    w.b.line(`let e = ${expert}[${a}];`);
    w.b.line(`let g = select(${gate}[${a}], ${f(0)}, e < ${i32(0)});`);
    w.b.line(`var dg = ${f(0)};`);
    w.b.block(`for (var o = 0u; o < ${O}; o++)`, () => {
      w.b.line(`let d = ${dy}[${a} * ${O} + o];`);
      w.b.line(`${dz}[${a} * ${O} + o] = g * d;`);
      w.b.block(`if (e >= ${i32(0)})`, () => {
        w.b.line(`var z = ${b2 ? `${b2}[u32(e) * ${O} + o]` : f(0)};`);
        w.b.block(`for (var c = 0u; c < ${F}; c++)`, () => {
          w.b.line(`z += ${h}[${a} * ${F} + c] * ${w2}[(u32(e) * ${O} + o) * ${F} + c];`);
        });
        w.b.line("dg += d * z;");
      });
    });
    w.b.line(`${dgate}[${a}] = dg;`);
  });
  return w.finish("expert_down_grad");
}

/** slots[r, j, c] = dy[r, c]. */
export function emitCombineGrad(node: Node<"combine_grad">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { topK } = node.attrs;
  const d = staticDim(w.type(node.inputs[0]!).shape[1], "combine width");
  const dy = w.input("dy", node.inputs[0]!);
  const slots = w.output("slots", node.outputs[0]!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`${slots}[${i}] = ${dy}[(${i} / ${u(topK * d)}) * ${u(d)} + ${i} % ${u(d)}];`);
  });
  return w.finish("combine_grad");
}

/** `share`: the fraction of rows whose first choice is expert `e`, counted in row order. */
function topOneShare(w: KernelWriter, expert: string, rows: string, k: number, e: string): void {
  w.b.line("var count = 0u;");
  w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
    w.b.line(`count += select(0u, 1u, ${expert}[r * ${u(k)}] == i32(${e}));`);
  });
  w.b.line(`let share = f32(count) / f32(${rows});`);
}

/** One invocation: coef · E · Σ_e f_e · mean_r p[r, e] (experts, then rows, in order). */
export function emitBalanceLoss(node: Node<"balance_loss">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { experts, coef } = node.attrs;
  const [n, kw] = w.type(node.inputs[0]!).shape;
  const k = staticDim(kw, "top_k");
  const expert = w.input("expert", node.inputs[0]!);
  const probs = w.input("probs", node.inputs[1]!);
  const loss = w.output("loss", node.outputs[0]!);
  const rows = w.size([n!]);
  w.perItem(constantSize(1), () => {
    w.b.line(`var total = ${f(0)};`);
    w.b.block(`for (var e = 0u; e < ${u(experts)}; e++)`, () => {
      topOneShare(w, expert, rows, k, "e");
      w.b.line(`var p = ${f(0)};`);
      w.b.block(`for (var r = 0u; r < ${rows}; r++)`, () => {
        w.b.line(`p += ${probs}[r * ${u(experts)} + e];`);
      });
      w.b.line("total += share * p;");
    });
    w.b.line(`${loss}[0] = ${f(coef * experts)} * total / f32(${rows});`);
  });
  return w.finish("balance_loss");
}

/** dProbs[r, e] = dloss · coef · E · f_e / N. */
export function emitBalanceLossGrad(
  node: Node<"balance_loss_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { experts, coef } = node.attrs;
  const [n, kw] = w.type(node.inputs[0]!).shape;
  const k = staticDim(kw, "top_k");
  const expert = w.input("expert", node.inputs[0]!);
  const dloss = w.input("dloss", node.inputs[1]!);
  const dp = w.output("dprobs", node.outputs[0]!);
  const rows = w.size([n!]);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    topOneShare(w, expert, rows, k, `${i} % ${u(experts)}`);
    w.b.line(`${dp}[${i}] = ${dloss}[0] * ${f(coef * experts)} * share / f32(${rows});`);
  });
  return w.finish("balance_loss_grad");
}
