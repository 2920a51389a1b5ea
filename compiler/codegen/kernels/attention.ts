// Rotary positions and causal multi-head attention.
import type { Node } from "../../ir/graph.js";
import type { OpAttrs } from "../../ir/ops.js";
import { dimSize, mulSize, shapeSize } from "../../../plan/size.js";
import { f32Literal as f, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";
import { reduceAngleFunction, splitF32 } from "./math.js";

/**
 * One invocation per rotated pair (position, head, i). The inverse frequencies are compile-time
 * constants computed in float64; each is split hi + lo so that pos * hi is exact (pos < 4096) and
 * the angle reaches sin/cos reduced to [-pi, pi] with about f32 accuracy.
 */
export function emitRope(node: Node<"rope">, ctx: EmitContext): EmittedKernel {
  return emitRotation(node, ctx, 1);
}

/** rope's gradient: the same rotation by the negative angle (its transpose). */
export function emitRopeGrad(node: Node<"rope_grad">, ctx: EmitContext): EmittedKernel {
  return emitRotation(node, ctx, -1);
}

function emitRotation(
  node: Node<"rope" | "rope_grad">,
  ctx: EmitContext,
  sign: 1 | -1,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { heads, base } = node.attrs;
  const [t, width] = w.type(node.inputs[0]!).shape;
  const d = staticDim(width, "rope width");
  const headDim = d / heads;
  const half = headDim / 2;
  const x = w.input("x", node.inputs[0]!);
  const positions = node.inputs[1] === undefined ? undefined : w.input("positions", node.inputs[1]);
  const y = w.output("y", node.outputs[0]!);
  const scaling: OpAttrs["rope"] = node.attrs;
  const parts = Array.from({ length: half }, (_, i) =>
    splitF32(scaling.invFreq?.[i] ?? Math.pow(base, (-2 * i) / headDim)),
  );
  const table = (k: 0 | 1) => `array<f32, ${half}>(${parts.map((p) => f(p[k])).join(", ")})`;
  w.b.declare(`const INV_FREQ_HI = ${table(0)};`);
  w.b.declare(`const INV_FREQ_LO = ${table(1)};`);
  const reduce = reduceAngleFunction(w.b);
  w.perItem(mulSize(dimSize(t!), d / 2), (i) => {
    w.b.line(`let pos = ${i} / ${u(d / 2)};`);
    w.b.line(`let h = (${i} % ${u(d / 2)}) / ${u(half)};`);
    w.b.line(`let k = ${i} % ${u(half)};`);
    w.b.line(positions ? `let p = f32(${positions}[pos]);` : "let p = f32(pos);");
    w.b.line(`let angle = ${reduce}(p * INV_FREQ_HI[k], p * INV_FREQ_LO[k]);`);
    // rope_scaling's factor on cos and sin (yarn's attention factor), when there is one.
    const factor = scaling.attentionFactor === undefined ? "" : ` * ${f(scaling.attentionFactor)}`;
    w.b.line(`let c = cos(angle)${factor};`);
    w.b.line(`let s = ${sign === 1 ? "" : "-"}sin(angle)${factor};`);
    w.b.line(`let a = pos * ${u(d)} + h * ${u(headDim)} + k;`);
    // Interleaved: the pair (2k, 2k+1) of the head is rotated into (k, k + half) like the
    // reference code, and the gradient rotates it back into the pair.
    const pair = scaling.interleaved ? ["a + k", "a + k + 1u"] : ["a", `a + ${u(half)}`];
    const [from, to] =
      sign === 1 ? [pair, ["a", `a + ${u(half)}`]] : [["a", `a + ${u(half)}`], pair];
    w.b.line(`let x1 = ${x}[${from[0]}];`);
    w.b.line(`let x2 = ${x}[${from[1]}];`);
    w.b.line(`${y}[${to[0]}] = x1 * c - x2 * s;`);
    w.b.line(`${y}[${to[1]}] = x2 * c + x1 * s;`);
  });
  return w.finish(sign === 1 ? "rope" : "rope_grad");
}

/**
 * One invocation per (row, head): a max pass over the visible scores, then exp-weighted sums of
 * v accumulated in the output row and divided by the sum at the end (the reference's order).
 * With fewer key/value heads (grouped-query attention) or a value width of its own, the keys and
 * values are indexed by their own widths; otherwise q, k, v and y share one row layout.
 */
export function emitAttention(node: Node<"attention">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { heads, kvHeads = heads } = node.attrs;
  const [t, width] = w.type(node.inputs[0]!).shape;
  const d = staticDim(width, "attention width");
  const kd = staticDim(w.type(node.inputs[1]!).shape[1], "attention key width");
  const vw = staticDim(w.type(node.inputs[2]!).shape[1], "attention value width");
  const hd = d / heads;
  const vhd = vw / kvHeads;
  const yw = vhd * heads;
  const group = heads / kvHeads;
  const sharedLayout = group === 1 && vw === d;
  const q = w.input("q", node.inputs[0]!);
  const k = w.input("k", node.inputs[1]!);
  const v = w.input("v", node.inputs[2]!);
  const y = w.output("y", node.outputs[0]!);
  scoreHelper(w, q, k, hd, node.attrs.scale);
  w.perItem(mulSize(dimSize(t!), heads), (i) => {
    w.b.line(`let row = ${i} / ${u(heads)};`);
    w.b.line(`let head = (${i} % ${u(heads)}) * ${u(hd)};`);
    w.b.line(`let qo = row * ${u(d)} + head;`);
    const kvHead = group === 1 ? "head" : "kv_head";
    if (group !== 1) w.b.line(`let kv_head = (${i} % ${u(heads)}) / ${u(group)} * ${u(hd)};`);
    // Value and output offsets: the key's and the query's when all rows share one layout.
    const [vo, yo] = sharedLayout ? ["ko", "qo"] : ["vo", "yo"];
    if (!sharedLayout) {
      w.b.line(`let v_head = (${i} % ${u(heads)}) / ${u(group)} * ${u(vhd)};`);
      w.b.line(`let yo = row * ${u(yw)} + (${i} % ${u(heads)}) * ${u(vhd)};`);
    }
    w.b.line(`var m = score(qo, ${kvHead});`);
    w.b.block("for (var j = 1u; j <= row; j++)", () => {
      w.b.line(`m = max(m, score(qo, j * ${u(kd)} + ${kvHead}));`);
    });
    w.b.block(`for (var c = 0u; c < ${u(vhd)}; c++)`, () => w.b.line(`${y}[${yo} + c] = ${f(0)};`));
    w.b.line(`var sum = ${f(0)};`);
    w.b.block("for (var j = 0u; j <= row; j++)", () => {
      w.b.line(`let ko = j * ${u(kd)} + ${kvHead};`);
      if (!sharedLayout) w.b.line(`let vo = j * ${u(vw)} + v_head;`);
      w.b.line("let p = exp(score(qo, ko) - m);");
      w.b.line("sum += p;");
      w.b.block(`for (var c = 0u; c < ${u(vhd)}; c++)`, () => {
        w.b.line(`${y}[${yo} + c] += p * ${v}[${vo} + c];`);
      });
    });
    w.b.block(`for (var c = 0u; c < ${u(vhd)}; c++)`, () =>
      w.b.line(`${y}[${yo} + c] = ${y}[${yo} + c] / sum;`),
    );
  });
  return w.finish("attention");
}

/** One invocation per element of the new rows: cache[positions[t], c] = rows[t, c]. */
export function emitKvWrite(node: Node<"kv_write">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [rowsV, positionsV] = node.inputs;
  const width = staticDim(w.type(rowsV!).shape[1], "cache row width");
  const capacity = staticDim(w.type(node.inputs[2]!).shape[0], "cache rows");
  const rows = w.input("rows", rowsV!);
  const positions = w.input("positions", positionsV!);
  // The cache is bound once, writable: the output is the cache input's own buffer.
  const cache = w.output("cache", node.outputs[0]!);
  w.perItem(shapeSize(w.type(rowsV!).shape), (i) => {
    w.b.line(`let pos = ${positions}[${i} / ${u(width)}];`);
    // Positions are checked on the host; one out of range is dropped rather than written.
    w.b.block(`if (pos >= 0 && u32(pos) < ${u(capacity)})`, () => {
      w.b.line(`${cache}[u32(pos) * ${u(width)} + ${i} % ${u(width)}] = ${rows}[${i}];`);
    });
  });
  return w.finish("kv_write");
}

/**
 * Attention of new query rows over a KV cache, one invocation per (row, head): row t sees cache
 * rows 0..positions[t], which kv_write has filled (this run's rows included). The passes are
 * emitAttention's: max, then exp-weighted sums divided at the end.
 */
export function emitCachedAttention(
  node: Node<"cached_attention">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { heads, kvHeads } = node.attrs;
  const [t, width] = w.type(node.inputs[0]!).shape;
  const d = staticDim(width, "attention width");
  const kd = staticDim(w.type(node.inputs[1]!).shape[1], "key cache width");
  const vw = staticDim(w.type(node.inputs[2]!).shape[1], "value cache width");
  const capacity = staticDim(w.type(node.inputs[1]!).shape[0], "cache rows");
  const [hd, vhd, group] = [d / heads, vw / kvHeads, heads / kvHeads];
  const q = w.input("q", node.inputs[0]!);
  const k = w.input("k", node.inputs[1]!);
  const v = w.input("v", node.inputs[2]!);
  const positions = w.input("positions", node.inputs[3]!);
  const y = w.output("y", node.outputs[0]!);
  scoreHelper(w, q, k, hd, node.attrs.scale);
  w.perItem(mulSize(dimSize(t!), heads), (i) => {
    w.b.line(`let row = ${i} / ${u(heads)};`);
    w.b.line(`let h = ${i} % ${u(heads)};`);
    w.b.line(`let qo = row * ${u(d)} + h * ${u(hd)};`);
    w.b.line(`let kh = h / ${u(group)};`);
    w.b.line(`let yo = row * ${u(vhd * heads)} + h * ${u(vhd)};`);
    w.b.line(`let last = min(u32(max(${positions}[row], 0)), ${u(capacity - 1)});`);
    w.b.line(`var m = score(qo, kh * ${u(hd)});`);
    w.b.block("for (var j = 1u; j <= last; j++)", () => {
      w.b.line(`m = max(m, score(qo, j * ${u(kd)} + kh * ${u(hd)}));`);
    });
    w.b.block(`for (var c = 0u; c < ${u(vhd)}; c++)`, () => w.b.line(`${y}[yo + c] = ${f(0)};`));
    w.b.line(`var sum = ${f(0)};`);
    w.b.block("for (var j = 0u; j <= last; j++)", () => {
      w.b.line(`let p = exp(score(qo, j * ${u(kd)} + kh * ${u(hd)}) - m);`);
      w.b.line("sum += p;");
      w.b.line(`let vo = j * ${u(vw)} + kh * ${u(vhd)};`);
      w.b.block(`for (var c = 0u; c < ${u(vhd)}; c++)`, () => {
        w.b.line(`${y}[yo + c] += p * ${v}[vo + c];`);
      });
    });
    w.b.block(`for (var c = 0u; c < ${u(vhd)}; c++)`, () =>
      w.b.line(`${y}[yo + c] = ${y}[yo + c] / sum;`),
    );
  });
  return w.finish("cached_attention");
}

/** `score(qo, ko)`: q·k over one head of width hd, times 1/√hd or the op's own scale. */
function scoreHelper(w: KernelWriter, q: string, k: string, hd: number, scale?: number): void {
  w.b.helper("score", () => {
    w.b.block("fn score(qo: u32, ko: u32) -> f32", () => {
      w.b.line(`var s = ${f(0)};`);
      w.b.block(`for (var c = 0u; c < ${u(hd)}; c++)`, () => {
        w.b.line(`s += ${q}[qo + c] * ${k}[ko + c];`);
      });
      w.b.line(`return s * ${f(scale ?? 1 / Math.sqrt(hd))};`);
    });
  });
}
