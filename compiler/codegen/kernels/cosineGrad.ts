// -O0 kernel of cosine_logits_grad (ir/ops/cosineGrad.ts has the formulas): each element of dh,
// demb and dτ is summed by one invocation in a fixed order (no atomics), recomputing the norms
// it needs. A constant number of workgroups, since the row count is known only at run time.
import type { Node } from "../../ir/graph.js";
import { COSINE_EPS, MIN_TEMPERATURE } from "../../ir/ops.js";
import { constantSize } from "../../../plan/size.js";
import { f32Literal as f, u32Literal as u } from "../wgsl.js";
import { type EmitContext, type EmittedKernel, KernelWriter, staticDim } from "./common.js";

const LANES = 64;

export function emitCosineLogitsGrad(
  node: Node<"cosine_logits_grad">,
  ctx: EmitContext,
): EmittedKernel {
  const w = new KernelWriter(ctx);
  const [hv, ev, tv, lv, gv] = node.inputs;
  const rowsDim = w.type(hv!).shape[0]!;
  const [e, r] = w.type(ev!).shape.map((d) => staticDim(d, "expert embedding dims")) as [
    number,
    number,
  ];
  const h = w.input("h", hv!);
  const emb = w.input("emb", ev!);
  const tau = w.input("tau", tv!);
  const logits = w.input("logits", lv!);
  const g_ = w.input("dlogits", gv!);
  const [dh, demb, dtau] = ["dh", "demb", "dtau"].map((name, k) =>
    w.output(name, node.outputs[k]!),
  );
  const n = w.size([rowsDim]);
  const eps = f(COSINE_EPS);
  const b = w.b;
  const sumSquares = (target: string, buffer: string, base: string) => {
    b.line(`var ${target} = ${f(0)};`);
    b.block(`for (var k = 0u; k < ${u(r)}; k++)`, () =>
      b.line(`${target} = fma(${buffer}[${base} + k], ${buffer}[${base} + k], ${target});`),
    );
  };
  // Workgroup x < E: row x of demb; E: dτ; E + 1: all of dh (the row count is a runtime size).
  w.perWorkgroup(constantSize(e + 2), u(e + 2), LANES, (g, lid) => {
    b.line(`let t = max(${tau}[0], ${f(MIN_TEMPERATURE)});`);
    b.block(`if (${g} < ${u(e)})`, () => {
      b.line(`let x = ${g};`);
      sumSquares("ee", emb, `x * ${u(r)}`);
      b.line(`let en = max(sqrt(ee), ${eps});`);
      b.block(`for (var c = ${lid}; c < ${u(r)}; c += ${u(LANES)})`, () => {
        b.line(`var acc = ${f(0)};`);
        b.line(`var gl = ${f(0)};`);
        b.block(`for (var row = 0u; row < ${n}; row++)`, () => {
          sumSquares("hh", h, `row * ${u(r)}`);
          b.line(`let a = row * ${u(e)} + x;`);
          b.line(`acc += ${g_}[a] * ${h}[row * ${u(r)} + c] / (max(sqrt(hh), ${eps}) * en * t);`);
          b.line(`gl = fma(${g_}[a], ${logits}[a], gl);`);
        });
        b.line(
          `let radial = select(${f(0)}, ${emb}[x * ${u(r)} + c] / ee * gl, sqrt(ee) > ${eps});`,
        );
        b.line(`${demb}[x * ${u(r)} + c] = acc - radial;`);
      });
      b.line("return;");
    });
    b.block(`if (${g} == ${u(e)})`, () => {
      b.block(`if (${lid} == 0u)`, () => {
        b.line(`var gl = ${f(0)};`);
        b.block(`for (var a = 0u; a < ${n} * ${u(e)}; a++)`, () =>
          b.line(`gl = fma(${g_}[a], ${logits}[a], gl);`),
        );
        b.line(`${dtau}[0] = select(${f(0)}, -gl / ${tau}[0], ${tau}[0] > ${f(MIN_TEMPERATURE)});`);
      });
      b.line("return;");
    });
    b.block(`for (var item = ${lid}; item < ${n} * ${u(r)}; item += ${u(LANES)})`, () => {
      b.line(`let j = item / ${u(r)};`);
      b.line(`let c = item % ${u(r)};`);
      sumSquares("hh", h, `j * ${u(r)}`);
      b.line(`let hn = max(sqrt(hh), ${eps});`);
      b.line(`var acc = ${f(0)};`);
      b.line(`var gl = ${f(0)};`);
      b.block(`for (var x = 0u; x < ${u(e)}; x++)`, () => {
        sumSquares("ee", emb, `x * ${u(r)}`);
        b.line(`let a = j * ${u(e)} + x;`);
        b.line(`acc += ${g_}[a] * ${emb}[x * ${u(r)} + c] / (hn * max(sqrt(ee), ${eps}) * t);`);
        b.line(`gl = fma(${g_}[a], ${logits}[a], gl);`);
      });
      b.line(`let radial = select(${f(0)}, ${h}[j * ${u(r)} + c] / hh * gl, sqrt(hh) > ${eps});`);
      b.line(`${dh}[j * ${u(r)} + c] = acc - radial;`);
    });
  });
  return w.finish("cosine_logits_grad");
}
