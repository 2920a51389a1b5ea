// BitNet b1.58 kernels (plan/bitnet.ts has the number formats): per-token int8 quantisation of
// activations, and linear layers and experts whose ternary weights stay packed 2 bits each.
// Dot products run in integers: four weights at a time with WGSL's dot4I8Packed where the
// adapter offers packed_4x8_integer_dot_product, else a plain integer fallback with the same
// result bit for bit. Floats only enter when the integer sum is rescaled.
import type { Node } from "../../ir/graph.js";
import {
  INT8_MAX,
  SCALE_EPS,
  int8WordsPerRow,
  ternaryHeaderWords,
  ternaryWordsPerRow,
} from "../../../plan/bitnet.js";
import type { DeviceProfile } from "../../../plan/profile.js";
import { shapeSize } from "../../../plan/size.js";
import { type WgslBuilder, f32Literal as f, i32Literal as i32, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";
import { activationFunction } from "./math.js";

/** The WGSL language feature behind dot4I8Packed (navigator.gpu.wgslLanguageFeatures). */
export const PACKED_DOT_FEATURE = "packed_4x8_integer_dot_product";

/** Whether kernels for this profile may use dot4I8Packed. */
export function hasPackedDot(profile: DeviceProfile): boolean {
  return profile.wgslLanguageFeatures?.includes(PACKED_DOT_FEATURE) ?? false;
}

/**
 * Declares `ternary_dot16(w, q0, q1, q2, q3) -> i32`: the exact integer dot product of the 16
 * ternary weights in word w with the 16 int8 activations in words q0..q3. With `packedDot`
 * the shader needs the language feature; call this before any binding so that its `requires`
 * directive comes first.
 */
export function declareTernaryDot(b: WgslBuilder, packedDot: boolean): string {
  if (packedDot) b.declare(`requires ${PACKED_DOT_FEATURE};`);
  const dot = packedDot ? "dot4I8Packed" : "dot4_i8";
  if (!packedDot) {
    b.helper("dot4_i8", () => {
      b.comment("dot4I8Packed without the language feature: bytes as signed 8-bit integers");
      b.block("fn dot4_i8(a: u32, c: u32) -> i32", () => {
        b.line("let x = bitcast<i32>(a);");
        b.line("let y = bitcast<i32>(c);");
        b.line("var s = 0i;");
        b.block("for (var j = 0u; j < 32u; j += 8u)", () => {
          b.line("s += extractBits(x, j, 8u) * extractBits(y, j, 8u);");
        });
        b.line("return s;");
      });
    });
  }
  b.helper("ternary_bytes", () => {
    b.comment("weights 4g..4g+3 of a packed word as int8 bytes: codes 0, 1, 2 minus 1, no borrow");
    b.block("fn ternary_bytes(w: u32, g: u32) -> u32", () => {
      b.line("let c = (w >> (2u * g)) & 0x03030303u;");
      b.line("return ((c | 0x80808080u) - 0x01010101u) ^ 0x80808080u;");
    });
  });
  return b.helper("ternary_dot16", () => {
    b.block("fn ternary_dot16(w: u32, q0: u32, q1: u32, q2: u32, q3: u32) -> i32", () => {
      b.line(
        `return ${dot}(ternary_bytes(w, 0u), q0) + ${dot}(ternary_bytes(w, 1u), q1) + ` +
          `${dot}(ternary_bytes(w, 2u), q2) + ${dot}(ternary_bytes(w, 3u), q3);`,
      );
    });
  });
}

/** One accumulator of emitTernaryDots: `acc` += the row of ternary words at `w[wBase + k]`. */
export interface TernaryTerm {
  readonly acc: string;
  readonly w: string;
  readonly wBase: string;
}

/**
 * Emits, for each term, acc (an i32 var) += Σ over `words` ternary words times the int8 words at
 * `q[qBase + 4k ..]`; each activation word is loaded once for all terms.
 */
export function emitTernaryDots(
  b: WgslBuilder,
  terms: readonly TernaryTerm[],
  q: string,
  qBase: string,
  words: number,
): void {
  b.block(`for (var k = 0u; k < ${u(words)}; k++)`, () => {
    b.line(`let qk = ${qBase} + 4u * k;`);
    b.line(`let q0 = ${q}[qk];`);
    b.line(`let q1 = ${q}[qk + 1u];`);
    b.line(`let q2 = ${q}[qk + 2u];`);
    b.line(`let q3 = ${q}[qk + 3u];`);
    for (const t of terms) {
      b.line(`${t.acc} += ternary_dot16(${t.w}[${t.wBase} + k], q0, q1, q2, q3);`);
    }
  });
}

/** emitTernaryDots for one weight row. */
export function emitTernaryRowDot(
  b: WgslBuilder,
  acc: string,
  q: string,
  qBase: string,
  w: string,
  wBase: string,
  words: number,
): void {
  emitTernaryDots(b, [{ acc, w, wBase }], q, qBase, words);
}

/**
 * Outputs per invocation: four consecutive weight rows share each activation load (lavapipe
 * scalarises per-invocation loads, so loads dominate); one where the width is not a multiple.
 */
function outputsPerInvocation(width: number): number {
  return width % 4 === 0 ? 4 : 1;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, c) => c);

/**
 * In scope after it: `base` (row i's first element of x, d wide), `a` = max(absmax of the row, ε)
 * and `s` = 127 / a, the quantisation scale. Shared by inference's act_quant and training's.
 */
export function rowAbsmax(w: KernelWriter, x: string, i: string, d: number): void {
  w.b.line(`let base = ${i} * ${u(d)};`);
  w.b.line(`var a = ${f(0)};`);
  w.b.block(`for (var c = 0u; c < ${u(d)}; c++)`, () =>
    w.b.line(`a = max(a, abs(${x}[base + c]));`),
  );
  w.b.line(`a = max(a, ${f(SCALE_EPS)});`);
  w.b.line(`let s = ${f(INT8_MAX)} / a;`);
}

/**
 * One invocation per row: absmax, then q = clamp(round(x · 127 / absmax), -127, 127) packed
 * four to a word (the row padded with zeros to whole ternary words), and the row's
 * dequantisation factor absmax / 127.
 */
export function emitActQuant(node: Node<"act_quant">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const shape = w.type(node.inputs[0]!).shape;
  const d = staticDim(shape[shape.length - 1], "quantised width");
  const words = int8WordsPerRow(d);
  const x = w.input("x", node.inputs[0]!);
  const q = w.output("q", node.outputs[0]!);
  const scale = w.output("scale", node.outputs[1]!);
  w.perItem(shapeSize(shape.slice(0, -1)), (i) => {
    rowAbsmax(w, x, i, d);
    w.b.block(`for (var k = 0u; k < ${u(words)}; k++)`, () => {
      w.b.line("var word = 0u;");
      w.b.block("for (var j = 0u; j < 4u; j++)", () => {
        w.b.line("let c = 4u * k + j;");
        w.b.block(`if (c < ${u(d)})`, () => {
          w.b.line(
            `let v = clamp(i32(round(${x}[base + c] * s)), ${i32(-INT8_MAX)}, ${i32(INT8_MAX)});`,
          );
          w.b.line("word |= (bitcast<u32>(v) & 0xffu) << (8u * j);");
        });
      });
      w.b.line(`${q}[${i} * ${u(words)} + k] = word;`);
    });
    w.b.line(`${scale}[${i}] = a / ${f(INT8_MAX)};`);
  });
  return w.finish("act_quant");
}

/** y = (Σ q·t) · (x scale · γ) + b; each invocation computes a few consecutive outputs. */
export function emitBitLinear(node: Node<"bitlinear">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [qv, sv, wv, bv] = node.inputs;
  const [out, inn] = w.type(wv!).shape.map((d) => staticDim(d, "linear weight dims")) as [
    number,
    number,
  ];
  declareTernaryDot(w.b, hasPackedDot(ctx.profile));
  const q = w.input("q", qv!);
  const xs = w.input("x_scale", sv!);
  const weight = w.input("w", wv!);
  const bias = bv === undefined ? undefined : w.input("b", bv);
  const y = w.output("y", node.outputs[0]!);
  const tw = ternaryWordsPerRow(inn);
  const per = outputsPerInvocation(out);
  const shape = w.type(node.outputs[0]!).shape;
  w.perItem(shapeSize([...shape.slice(0, -1), out / per]), (i) => {
    w.b.line(`let row = ${i} / ${u(out / per)};`);
    w.b.line(`let o = (${i} % ${u(out / per)}) * ${u(per)};`);
    for (const c of range(per)) w.b.line(`var acc${c} = 0i;`);
    const header = u(ternaryHeaderWords(1));
    const terms = range(per).map((c) => ({
      acc: `acc${c}`,
      w: weight,
      wBase: `${header} + (o + ${u(c)}) * ${u(tw)}`,
    }));
    emitTernaryDots(w.b, terms, q, `row * ${u(int8WordsPerRow(inn))}`, tw);
    w.b.line(`let s = ${xs}[row] * bitcast<f32>(${weight}[0u]);`);
    for (const c of range(per)) {
      const o = `o + ${u(c)}`;
      w.b.line(`${y}[row * ${u(out)} + ${o}] = f32(acc${c}) * s${bias ? ` + ${bias}[${o}]` : ""};`);
    }
  });
  return w.finish("bitlinear");
}

/**
 * h[r, j, o] = act(Σ q[r]·t1[e] · (x scale[r] · γ1[e]) + b1[e]) (⊙ the same with the up
 * weights when gated), e = expert[r, j]; zeros for a dropped assignment (e = -1). Each
 * invocation computes a few consecutive outputs of one assignment.
 */
export function emitBitExpertUp(node: Node<"bit_expert_up">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const { act, gated, bias } = node.attrs;
  const [qv, sv, ev, w1v, extra] = node.inputs;
  const [experts, hidden, width] = w
    .type(w1v!)
    .shape.map((d) => staticDim(d, "expert weight dims")) as [number, number, number];
  const k = staticDim(w.type(ev!).shape[1], "top_k");
  declareTernaryDot(w.b, hasPackedDot(ctx.profile));
  const q = w.input("q", qv!);
  const xs = w.input("x_scale", sv!);
  const expert = w.input("expert", ev!);
  const w1 = w.input("w1", w1v!);
  const wUp = gated ? w.input("w_up", extra!) : undefined;
  const b1 = bias ? w.input("b1", extra!) : undefined;
  const h = w.output("h", node.outputs[0]!);
  const fn = activationFunction(w.b, act);
  const tw = ternaryWordsPerRow(width);
  const header = ternaryHeaderWords(experts);
  const per = outputsPerInvocation(hidden);
  const groups = hidden / per;
  const shape = w.type(node.outputs[0]!).shape;
  w.perItem(shapeSize([...shape.slice(0, -1), groups]), (i) => {
    w.b.line(`let slot = ${i} / ${u(groups)};`);
    w.b.line(`let o = (${i} % ${u(groups)}) * ${u(per)};`);
    w.b.line(`let out = slot * ${u(hidden)} + o;`);
    w.b.line(`let e = ${expert}[slot];`);
    w.b.block(`if (e < ${i32(0)})`, () => {
      for (const c of range(per)) w.b.line(`${h}[out + ${u(c)}] = ${f(0)};`);
      w.b.line("return;");
    });
    w.b.line(`let row = slot / ${u(k)};`);
    w.b.line(`let wrow = ${u(header)} + (u32(e) * ${u(hidden)} + o) * ${u(tw)};`);
    const terms = range(per).flatMap((c) => [
      { acc: `a${c}`, w: w1, wBase: `wrow + ${u(c * tw)}` },
      ...(wUp ? [{ acc: `u${c}`, w: wUp, wBase: `wrow + ${u(c * tw)}` }] : []),
    ]);
    for (const t of terms) w.b.line(`var ${t.acc} = 0i;`);
    emitTernaryDots(w.b, terms, q, `row * ${u(int8WordsPerRow(width))}`, tw);
    w.b.line(`let s1 = ${xs}[row] * bitcast<f32>(${w1}[u32(e)]);`);
    if (wUp) w.b.line(`let s_up = ${xs}[row] * bitcast<f32>(${wUp}[u32(e)]);`);
    for (const c of range(per)) {
      const b1Term = b1 ? ` + ${b1}[u32(e) * ${u(hidden)} + o + ${u(c)}]` : "";
      const gate = `${fn}(f32(a${c}) * s1${b1Term})`;
      w.b.line(`${h}[out + ${u(c)}] = ${gate}${wUp ? ` * (f32(u${c}) * s_up)` : ""};`);
    }
  });
  return w.finish(`bit_expert_up_${act}${gated ? "_gated" : ""}`);
}

/**
 * y[r, j, o] = gate[r, j] · (Σ q[r, j]·t2[e] · (h scale[r, j] · γ2[e]) + b2[e]); zeros for a
 * dropped assignment. Each invocation computes a few consecutive outputs of one assignment.
 */
export function emitBitExpertDown(node: Node<"bit_expert_down">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [qv, sv, ev, gv, w2v, b2v] = node.inputs;
  const [experts, out, hidden] = w
    .type(w2v!)
    .shape.map((d) => staticDim(d, "expert weight dims")) as [number, number, number];
  declareTernaryDot(w.b, hasPackedDot(ctx.profile));
  const q = w.input("q", qv!);
  const hs = w.input("h_scale", sv!);
  const expert = w.input("expert", ev!);
  const gate = w.input("gate", gv!);
  const w2 = w.input("w2", w2v!);
  const b2 = node.attrs.bias ? w.input("b2", b2v!) : undefined;
  const y = w.output("y", node.outputs[0]!);
  const tw = ternaryWordsPerRow(hidden);
  const per = outputsPerInvocation(out);
  const groups = out / per;
  const shape = w.type(node.outputs[0]!).shape;
  w.perItem(shapeSize([...shape.slice(0, -1), groups]), (i) => {
    w.b.line(`let slot = ${i} / ${u(groups)};`);
    w.b.line(`let o = (${i} % ${u(groups)}) * ${u(per)};`);
    w.b.line(`let dst = slot * ${u(out)} + o;`);
    w.b.line(`let e = ${expert}[slot];`);
    w.b.block(`if (e < ${i32(0)})`, () => {
      for (const c of range(per)) w.b.line(`${y}[dst + ${u(c)}] = ${f(0)};`);
      w.b.line("return;");
    });
    w.b.line(`let wrow = ${u(ternaryHeaderWords(experts))} + (u32(e) * ${u(out)} + o) * ${u(tw)};`);
    const terms = range(per).map((c) => ({ acc: `acc${c}`, w: w2, wBase: `wrow + ${u(c * tw)}` }));
    for (const t of terms) w.b.line(`var ${t.acc} = 0i;`);
    emitTernaryDots(w.b, terms, q, `slot * ${u(int8WordsPerRow(hidden))}`, tw);
    w.b.line(`let s = ${hs}[slot] * bitcast<f32>(${w2}[u32(e)]);`);
    w.b.line(`let g = ${gate}[slot];`);
    for (const c of range(per)) {
      const b2Term = b2 ? ` + ${b2}[u32(e) * ${u(out)} + o + ${u(c)}]` : "";
      w.b.line(`${y}[dst + ${u(c)}] = g * (f32(acc${c}) * s${b2Term});`);
    }
  });
  return w.finish("bit_expert_down");
}
