// Scalar WGSL helpers shared by kernels: activations (WGSL has no erf) and accurate sin/cos.
import type { Activation } from "../../ir/ops.js";
import { type WgslBuilder, f32Literal } from "../wgsl.js";

// erf for f32 to about 1 ulp: N. Juffa's minimax fit ("Implementing a high-accuracy erff",
// Stack Overflow), checked against the float64 reference erf of ops.ts (max rel. error 1.2e-7).
const ERF_TAIL = [-1.7285347e-5, 3.83197126e-4, -3.88396438e-3, 2.42546219e-2] as const;
const ERF_TAIL_REST = [-1.06777877e-1, -6.34846687e-1, -1.28717512e-1] as const;
const ERF_CORE = [
  -5.96761703e-4, 4.99119423e-3, -2.67681349e-2, 1.12819925e-1, -3.76125336e-1, 1.28379166e-1,
] as const;

function erfHelper(b: WgslBuilder): string {
  return b.helper("erf_f32", () => {
    const f = f32Literal;
    b.block("fn erf_f32(a: f32) -> f32", () => {
      b.line("let t = abs(a);");
      b.line("let s = a * a;");
      b.block(`if (t > ${f(0.927734375)})`, () => {
        b.line("// 1 - erfc(t), with erfc(t) = exp(-t - t * p(t)).");
        b.line(`var r = fma(${f(ERF_TAIL[0])}, t, ${f(ERF_TAIL[1])});`);
        b.line(`let u = fma(${f(ERF_TAIL[2])}, t, ${f(ERF_TAIL[3])});`);
        b.line("r = fma(r, s, u);");
        for (const c of ERF_TAIL_REST) b.line(`r = fma(r, t, ${f(c)});`);
        b.line("r = fma(r, t, -t);");
        b.line(`return select(${f(-1)}, ${f(1)}, a > ${f(0)}) * (${f(1)} - exp(r));`);
      });
      b.line(`var r = ${f(ERF_CORE[0])};`);
      for (const c of ERF_CORE.slice(1)) b.line(`r = fma(r, s, ${f(c)});`);
      b.line("return fma(r, a, a);");
    });
  });
}

/** The name of a WGSL function `fn(x: f32) -> f32` computing the activation. */
export function activationFunction(b: WgslBuilder, act: Activation): string {
  const f = f32Literal;
  const name = `act_${act}`;
  return b.helper(name, () => {
    if (act === "gelu") erfHelper(b);
    b.block(`fn ${name}(x: f32) -> f32`, () => {
      switch (act) {
        case "gelu":
          b.line(`return ${f(0.5)} * x * (${f(1)} + erf_f32(x * ${f(Math.SQRT1_2)}));`);
          break;
        case "gelu_tanh":
          b.line(`let u = ${f(Math.sqrt(2 / Math.PI))} * (x + ${f(0.044715)} * x * x * x);`);
          b.line(
            "// tanh saturates to +-1 in f32 well before 10; clamping avoids inf/inf inside tanh.",
          );
          b.line(`return ${f(0.5)} * x * (${f(1)} + tanh(clamp(u, ${f(-10)}, ${f(10)})));`);
          break;
        case "silu":
          b.line(`return x / (${f(1)} + exp(-x));`);
          break;
        case "relu":
          b.line(`return select(${f(0)}, x, x > ${f(0)});`);
          break;
        case "sigmoid":
          b.line(`return ${f(1)} / (${f(1)} + exp(-x));`);
          break;
      }
    });
  });
}

// 2*pi in three parts (Cody-Waite): the first has 8 significant bits, so n * TWO_PI_A is exact.
const TWO_PI_A = 6.28125;
const TWO_PI_B = Math.fround(2 * Math.PI - TWO_PI_A);
const TWO_PI_C = Math.fround(2 * Math.PI - TWO_PI_A - TWO_PI_B);

/**
 * `fn reduce_angle(hi: f32, lo: f32) -> f32`: the angle hi + lo reduced to [-pi, pi], so that
 * sin/cos stay in the range where every implementation is accurate.
 */
export function reduceAngleFunction(b: WgslBuilder): string {
  const f = f32Literal;
  return b.helper("reduce_angle", () => {
    b.block("fn reduce_angle(hi: f32, lo: f32) -> f32", () => {
      b.line(`let n = round((hi + lo) * ${f(1 / (2 * Math.PI))});`);
      b.line(
        `return ((hi - n * ${f(TWO_PI_A)}) - n * ${f(TWO_PI_B)}) + (lo - n * ${f(TWO_PI_C)});`,
      );
    });
  });
}

/** x = hi + lo with hi holding the top 12 significant bits, so (integer < 4096) * hi is exact. */
export function splitF32(x: number): [hi: number, lo: number] {
  if (x === 0) return [0, 0];
  const scale = 2 ** (11 - Math.floor(Math.log2(Math.abs(x))));
  const hi = Math.round(x * scale) / scale;
  return [hi, Math.fround(x - hi)];
}
