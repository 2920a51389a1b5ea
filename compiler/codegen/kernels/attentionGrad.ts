// -O0 kernels of causal attention's backward: the per-row statistics, then dq, dk, dv with one
// invocation per (row, head) and every sum over rows in ascending order (no atomics).
import type { Node } from "../../ir/graph.js";
import { dimSize, mulSize } from "../../../plan/size.js";
import { f32Literal as f, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";

function scoreHelper(w: KernelWriter, q: string, k: string, hd: number): void {
  w.b.helper("score", () => {
    w.b.block("fn score(qo: u32, ko: u32) -> f32", () => {
      w.b.line(`var s = ${f(0)};`);
      w.b.block(`for (var c = 0u; c < ${u(hd)}; c++)`, () =>
        w.b.line(`s += ${q}[qo + c] * ${k}[ko + c];`),
      );
      w.b.line(`return s * ${f(1 / Math.sqrt(hd))};`);
    });
  });
}

/** stats[i, h] = (log Σ_{j≤i} exp(s_ij), Σ_c dy_ic · y_ic). */
export function emitAttentionStats(node: Node<"attention_stats">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { heads } = node.attrs;
  const [t, width] = w.type(node.inputs[0]!).shape;
  const d = staticDim(width, "attention width");
  const hd = d / heads;
  const [q, k, y, dy] = ["q", "k", "y", "dy"].map((name, j) => w.input(name, node.inputs[j]!));
  const stats = w.output("stats", node.outputs[0]!);
  scoreHelper(w, q!, k!, hd);
  w.perItem(mulSize(dimSize(t!), heads), (i) => {
    w.b.line(`let row = ${i} / ${u(heads)};`);
    w.b.line(`let head = (${i} % ${u(heads)}) * ${u(hd)};`);
    w.b.line(`let qo = row * ${u(d)} + head;`);
    w.b.line("var m = score(qo, head);");
    w.b.block("for (var j = 1u; j <= row; j++)", () => {
      w.b.line(`m = max(m, score(qo, j * ${u(d)} + head));`);
    });
    w.b.line(`var sum = ${f(0)};`);
    w.b.block("for (var j = 0u; j <= row; j++)", () => {
      w.b.line(`sum += exp(score(qo, j * ${u(d)} + head) - m);`);
    });
    w.b.line(`var delta = ${f(0)};`);
    w.b.block(`for (var c = 0u; c < ${u(hd)}; c++)`, () => {
      w.b.line(`delta += ${dy}[qo + c] * ${y}[qo + c];`);
    });
    w.b.line(`${stats}[${i} * 2u] = m + log(sum);`);
    w.b.line(`${stats}[${i} * 2u + 1u] = delta;`);
  });
  return w.finish("attention_stats");
}

/**
 * Invocation (t, h) writes row t of dq (over keys j ≤ t), dk and dv (over queries i ≥ t), with
 * P_ij = exp(s_ij − lse_i) and dS_ij = P_ij (dy_i·v_j − D_i).
 */
export function emitAttentionGrad(node: Node<"attention_grad">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { heads } = node.attrs;
  const [t, width] = w.type(node.inputs[0]!).shape;
  const d = staticDim(width, "attention width");
  const hd = d / heads;
  const [q, k, v, dy, stats] = ["q", "k", "v", "dy", "stats"].map((name, j) =>
    w.input(name, node.inputs[j]!),
  );
  const [dq, dk, dv] = ["dq", "dk", "dv"].map((name, j) => w.output(name, node.outputs[j]!));
  scoreHelper(w, q!, k!, hd);
  w.b.helper("prob_and_dscore", () => {
    w.b.block("fn prob_and_dscore(i: u32, j: u32, h: u32) -> vec2f", () => {
      w.b.line(`let head = h * ${u(hd)};`);
      w.b.line(
        `let p = exp(score(i * ${u(d)} + head, j * ${u(d)} + head) - ${stats}[(i * ${u(heads)} + h) * 2u]);`,
      );
      w.b.line(`var dp = ${f(0)};`);
      w.b.block(`for (var c = 0u; c < ${u(hd)}; c++)`, () => {
        w.b.line(`dp += ${dy}[i * ${u(d)} + head + c] * ${v}[j * ${u(d)} + head + c];`);
      });
      w.b.line(`return vec2f(p, p * (dp - ${stats}[(i * ${u(heads)} + h) * 2u + 1u]));`);
    });
  });
  const rows = w.size([t!]);
  const scale = f(1 / Math.sqrt(hd));
  w.perItem(mulSize(dimSize(t!), heads), (i) => {
    w.b.line(`let row = ${i} / ${u(heads)};`);
    w.b.line(`let h = ${i} % ${u(heads)};`);
    w.b.line(`let o = row * ${u(d)} + h * ${u(hd)};`);
    w.b.block(`for (var c = 0u; c < ${u(hd)}; c++)`, () => {
      for (const out of [dq, dk, dv]) w.b.line(`${out}[o + c] = ${f(0)};`);
    });
    w.b.block("for (var j = 0u; j <= row; j++)", () => {
      w.b.line(`let ds = prob_and_dscore(row, j, h).y * ${scale};`);
      w.b.block(`for (var c = 0u; c < ${u(hd)}; c++)`, () => {
        w.b.line(`${dq}[o + c] += ds * ${k}[j * ${u(d)} + h * ${u(hd)} + c];`);
      });
    });
    w.b.block(`for (var qi = row; qi < ${rows}; qi++)`, () => {
      w.b.line("let pd = prob_and_dscore(qi, row, h);");
      w.b.line(`let ds = pd.y * ${scale};`);
      w.b.block(`for (var c = 0u; c < ${u(hd)}; c++)`, () => {
        w.b.line(`let src = qi * ${u(d)} + h * ${u(hd)} + c;`);
        w.b.line(`${dk}[o + c] += ds * ${q}[src];`);
        w.b.line(`${dv}[o + c] += pd.x * ${dy}[src];`);
      });
    });
  });
  return w.finish("attention_grad");
}
