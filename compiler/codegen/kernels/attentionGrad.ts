// -O0 kernels of causal attention's backward: the per-row statistics, then dq, dk, dv with one
// invocation per (row, head) and every sum over rows in ascending order (no atomics). With
// grouped-query attention, invocation (row, h) for h < kvHeads also writes key/value head h,
// summing over the query heads of its group (ascending), then the queries that see the row.
import type { Node } from "../../ir/graph.js";
import { dimSize, mulSize } from "../../../plan/size.js";
import { f32Literal as f, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";

/** Widths of the operands' rows and heads, and the score scale. */
interface Geometry {
  readonly heads: number;
  readonly kvHeads: number;
  /** Query/key head width, value head width. */
  readonly qk: number;
  readonly value: number;
  /** Row widths of q, k, v and y (= dy). */
  readonly qw: number;
  readonly kw: number;
  readonly vw: number;
  readonly yw: number;
  readonly scale: number;
}

function geometry(
  w: KernelWriter,
  node: Node<"attention_stats" | "attention_grad">,
  [q, k, y]: readonly number[],
): Geometry {
  const { heads, kvHeads = heads, scale } = node.attrs;
  const width = (v: number) => staticDim(w.type(v).shape[1], "attention width");
  const [qw, kw, yw] = [width(q!), width(k!), width(y!)];
  const qk = qw / heads;
  const value = yw / heads;
  return {
    heads,
    kvHeads,
    qk,
    value,
    qw,
    kw,
    vw: value * kvHeads,
    yw,
    scale: scale ?? 1 / Math.sqrt(qk),
  };
}

/** `kv_head(h)`: the key/value head query head h reads. */
function kvHeadHelper(w: KernelWriter, g: Geometry): void {
  w.b.helper("kv_head", () => {
    w.b.block("fn kv_head(h: u32) -> u32", () => w.b.line(`return h / ${u(g.heads / g.kvHeads)};`));
  });
}

/** `score(i, j, h)`: scale · q_i·k_j over query head h and its key head. */
function scoreHelper(w: KernelWriter, q: string, k: string, g: Geometry): void {
  kvHeadHelper(w, g);
  w.b.helper("score", () => {
    w.b.block("fn score(i: u32, j: u32, h: u32) -> f32", () => {
      w.b.line(`let qo = i * ${u(g.qw)} + h * ${u(g.qk)};`);
      w.b.line(`let ko = j * ${u(g.kw)} + kv_head(h) * ${u(g.qk)};`);
      w.b.line(`var s = ${f(0)};`);
      w.b.block(`for (var c = 0u; c < ${u(g.qk)}; c++)`, () =>
        w.b.line(`s += ${q}[qo + c] * ${k}[ko + c];`),
      );
      w.b.line(`return s * ${f(g.scale)};`);
    });
  });
}

/** stats[i, h] = (log Σ_{j≤i} exp(s_ij), Σ_c dy_ic · y_ic). */
export function emitAttentionStats(node: Node<"attention_stats">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const g = geometry(w, node, node.inputs);
  const t = w.type(node.inputs[0]!).shape[0];
  const [q, k, y, dy] = ["q", "k", "y", "dy"].map((name, j) => w.input(name, node.inputs[j]!));
  const stats = w.output("stats", node.outputs[0]!);
  scoreHelper(w, q!, k!, g);
  w.perItem(mulSize(dimSize(t!), g.heads), (i) => {
    w.b.line(`let row = ${i} / ${u(g.heads)};`);
    w.b.line(`let h = ${i} % ${u(g.heads)};`);
    w.b.line("var m = score(row, 0u, h);");
    w.b.block("for (var j = 1u; j <= row; j++)", () => w.b.line("m = max(m, score(row, j, h));"));
    w.b.line(`var sum = ${f(0)};`);
    w.b.block("for (var j = 0u; j <= row; j++)", () =>
      w.b.line("sum += exp(score(row, j, h) - m);"),
    );
    w.b.line(`let yo = row * ${u(g.yw)} + h * ${u(g.value)};`);
    w.b.line(`var delta = ${f(0)};`);
    w.b.block(`for (var c = 0u; c < ${u(g.value)}; c++)`, () => {
      w.b.line(`delta += ${dy}[yo + c] * ${y}[yo + c];`);
    });
    w.b.line(`${stats}[${i} * 2u] = m + log(sum);`);
    w.b.line(`${stats}[${i} * 2u + 1u] = delta;`);
  });
  return w.finish("attention_stats");
}

/**
 * Invocation (t, h) writes row t of dq's head h (over keys j ≤ t) and, for h < kvHeads, row t
 * of dk's and dv's head h (over the group's query heads, then queries i ≥ t), with
 * P_ij = exp(s_ij − lse_i) and dS_ij = P_ij (dy_i·v_j − D_i).
 */
export function emitAttentionGrad(node: Node<"attention_grad">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [qv, kv, , dyv] = node.inputs;
  const g = geometry(w, node, [qv!, kv!, dyv!]);
  const t = w.type(qv!).shape[0];
  const [q, k, v, dy, stats] = ["q", "k", "v", "dy", "stats"].map((name, j) =>
    w.input(name, node.inputs[j]!),
  );
  const [dq, dk, dv] = ["dq", "dk", "dv"].map((name, j) => w.output(name, node.outputs[j]!));
  scoreHelper(w, q!, k!, g);
  const H = u(g.heads);
  w.b.helper("prob_and_dscore", () => {
    w.b.block("fn prob_and_dscore(i: u32, j: u32, h: u32) -> vec2f", () => {
      w.b.line(`let p = exp(score(i, j, h) - ${stats}[(i * ${H} + h) * 2u]);`);
      w.b.line(`let yo = i * ${u(g.yw)} + h * ${u(g.value)};`);
      w.b.line(`let vo = j * ${u(g.vw)} + kv_head(h) * ${u(g.value)};`);
      w.b.line(`var dp = ${f(0)};`);
      w.b.block(`for (var c = 0u; c < ${u(g.value)}; c++)`, () => {
        w.b.line(`dp += ${dy}[yo + c] * ${v}[vo + c];`);
      });
      w.b.line(`return vec2f(p, p * (dp - ${stats}[(i * ${H} + h) * 2u + 1u]));`);
    });
  });
  const rows = w.size([t!]);
  const scale = f(g.scale);
  w.perItem(mulSize(dimSize(t!), g.heads), (i) => {
    w.b.line(`let row = ${i} / ${H};`);
    w.b.line(`let h = ${i} % ${H};`);
    // Sums run in registers (function-scope arrays start at zero) and are stored once: a
    // read-modify-write of the output per term would cost a load and a store each.
    w.b.line(`var dq_acc: array<f32, ${g.qk}>;`);
    w.b.block("for (var j = 0u; j <= row; j++)", () => {
      w.b.line(`let ds = prob_and_dscore(row, j, h).y * ${scale};`);
      w.b.line(`let ko = j * ${u(g.kw)} + kv_head(h) * ${u(g.qk)};`);
      w.b.block(`for (var c = 0u; c < ${u(g.qk)}; c++)`, () => {
        w.b.line(`dq_acc[c] += ds * ${k}[ko + c];`);
      });
    });
    w.b.line(`let qo = row * ${u(g.qw)} + h * ${u(g.qk)};`);
    w.b.block(`for (var c = 0u; c < ${u(g.qk)}; c++)`, () =>
      w.b.line(`${dq}[qo + c] = dq_acc[c];`),
    );
    w.b.block(`if (h >= ${u(g.kvHeads)})`, () => w.b.line("return;"));
    // Here h is a key/value head: row `row` of its dk and dv.
    w.b.line(`var dk_acc: array<f32, ${g.qk}>;`);
    w.b.line(`var dv_acc: array<f32, ${g.value}>;`);
    const group = g.heads / g.kvHeads;
    w.b.block(`for (var qh = h * ${u(group)}; qh < (h + 1u) * ${u(group)}; qh++)`, () => {
      w.b.block(`for (var qi = row; qi < ${rows}; qi++)`, () => {
        w.b.line("let pd = prob_and_dscore(qi, row, qh);");
        w.b.line(`let ds = pd.y * ${scale};`);
        w.b.line(`let qs = qi * ${u(g.qw)} + qh * ${u(g.qk)};`);
        w.b.line(`let ys = qi * ${u(g.yw)} + qh * ${u(g.value)};`);
        w.b.block(`for (var c = 0u; c < ${u(g.qk)}; c++)`, () => {
          w.b.line(`dk_acc[c] += ds * ${q}[qs + c];`);
        });
        w.b.block(`for (var c = 0u; c < ${u(g.value)}; c++)`, () => {
          w.b.line(`dv_acc[c] += pd.x * ${dy}[ys + c];`);
        });
      });
    });
    w.b.line(`let ko = row * ${u(g.kw)} + h * ${u(g.qk)};`);
    w.b.line(`let vo = row * ${u(g.vw)} + h * ${u(g.value)};`);
    w.b.block(`for (var c = 0u; c < ${u(g.qk)}; c++)`, () =>
      w.b.line(`${dk}[ko + c] = dk_acc[c];`),
    );
    w.b.block(`for (var c = 0u; c < ${u(g.value)}; c++)`, () =>
      w.b.line(`${dv}[vo + c] = dv_acc[c];`),
    );
  });
  return w.finish("attention_grad");
}
