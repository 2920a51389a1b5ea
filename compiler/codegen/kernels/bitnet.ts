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

/**
 * Emits `acc` (an i32 var) += Σ over the `words` ternary words at `w[wBase + k]` times the int8
 * words at `q[qBase + 4k ..]`.
 */
export function emitTernaryRowDot(
  b: WgslBuilder,
  acc: string,
  q: string,
  qBase: string,
  w: string,
  wBase: string,
  words: number,
): void {
  b.block(`for (var k = 0u; k < ${u(words)}; k++)`, () => {
    b.line(`let qk = ${qBase} + 4u * k;`);
    b.line(
      `${acc} += ternary_dot16(${w}[${wBase} + k], ${q}[qk], ${q}[qk + 1u], ${q}[qk + 2u], ${q}[qk + 3u]);`,
    );
  });
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
    w.b.line(`let base = ${i} * ${u(d)};`);
    w.b.line(`var a = ${f(0)};`);
    w.b.block(`for (var c = 0u; c < ${u(d)}; c++)`, () =>
      w.b.line(`a = max(a, abs(${x}[base + c]));`),
    );
    w.b.line(`a = max(a, ${f(SCALE_EPS)});`);
    w.b.line(`let s = ${f(INT8_MAX)} / a;`);
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

/** y = (Σ q·t) · (x scale · γ) + b, one invocation per output element. */
export function emitBitLinear(node: Node<"bitlinear">, ctx: EmitContext): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [qv, sv, wv, bv] = node.inputs;
  const [out, inn] = w.type(wv!).shape.map((d) => staticDim(d, "linear weight dims"));
  declareTernaryDot(w.b, hasPackedDot(ctx.profile));
  const q = w.input("q", qv!);
  const xs = w.input("x_scale", sv!);
  const weight = w.input("w", wv!);
  const bias = bv === undefined ? undefined : w.input("b", bv);
  const y = w.output("y", node.outputs[0]!);
  const tw = ternaryWordsPerRow(inn!);
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let row = ${i} / ${u(out!)};`);
    w.b.line(`let o = ${i} % ${u(out!)};`);
    w.b.line("var acc = 0i;");
    emitTernaryRowDot(
      w.b,
      "acc",
      q,
      `row * ${u(int8WordsPerRow(inn!))}`,
      weight,
      `${u(ternaryHeaderWords(1))} + o * ${u(tw)}`,
      tw,
    );
    const rescale = `f32(acc) * (${xs}[row] * bitcast<f32>(${weight}[0u]))`;
    w.b.line(`${y}[${i}] = ${rescale}${bias ? ` + ${bias}[o]` : ""};`);
  });
  return w.finish("bitlinear");
}

/**
 * h[r, j, o] = act(Σ q[r]·t1[e] · (x scale[r] · γ1[e]) + b1[e]) (⊙ the same with the up
 * weights when gated), e = expert[r, j]; zeros for a dropped assignment (e = -1).
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
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let slot = ${i} / ${u(hidden)};`);
    w.b.line(`let o = ${i} % ${u(hidden)};`);
    w.b.line(`let e = ${expert}[slot];`);
    w.b.block(`if (e < ${i32(0)})`, () => {
      w.b.line(`${h}[${i}] = ${f(0)};`);
      w.b.line("return;");
    });
    w.b.line(`let row = slot / ${u(k)};`);
    w.b.line(`let qrow = row * ${u(int8WordsPerRow(width))};`);
    w.b.line(`let wrow = ${u(header)} + (u32(e) * ${u(hidden)} + o) * ${u(tw)};`);
    w.b.line("var acc = 0i;");
    emitTernaryRowDot(w.b, "acc", q, "qrow", w1, "wrow", tw);
    const scale = (t: string) => `(${xs}[row] * bitcast<f32>(${t}[u32(e)]))`;
    const b1Term = b1 ? ` + ${b1}[u32(e) * ${u(hidden)} + o]` : "";
    w.b.line(`let a = f32(acc) * ${scale(w1)}${b1Term};`);
    if (wUp) {
      w.b.line("var up = 0i;");
      emitTernaryRowDot(w.b, "up", q, "qrow", wUp, "wrow", tw);
      w.b.line(`${h}[${i}] = ${fn}(a) * (f32(up) * ${scale(wUp)});`);
    } else {
      w.b.line(`${h}[${i}] = ${fn}(a);`);
    }
  });
  return w.finish(`bit_expert_up_${act}${gated ? "_gated" : ""}`);
}

/**
 * y[r, j, o] = gate[r, j] · (Σ q[r, j]·t2[e] · (h scale[r, j] · γ2[e]) + b2[e]); zeros for a
 * dropped assignment.
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
  w.perItem(shapeSize(w.type(node.outputs[0]!).shape), (i) => {
    w.b.line(`let slot = ${i} / ${u(out)};`);
    w.b.line(`let o = ${i} % ${u(out)};`);
    w.b.line(`let e = ${expert}[slot];`);
    w.b.block(`if (e < ${i32(0)})`, () => {
      w.b.line(`${y}[${i}] = ${f(0)};`);
      w.b.line("return;");
    });
    w.b.line(`let wrow = ${u(ternaryHeaderWords(experts))} + (u32(e) * ${u(out)} + o) * ${u(tw)};`);
    w.b.line("var acc = 0i;");
    emitTernaryRowDot(w.b, "acc", q, `slot * ${u(int8WordsPerRow(hidden))}`, w2, "wrow", tw);
    const b2Term = b2 ? ` + ${b2}[u32(e) * ${u(out)} + o]` : "";
    w.b.line(
      `${y}[${i}] = ${gate}[slot] * (f32(acc) * (${hs}[slot] * bitcast<f32>(${w2}[u32(e)]))${b2Term});`,
    );
  });
  return w.finish("bit_expert_down");
}
