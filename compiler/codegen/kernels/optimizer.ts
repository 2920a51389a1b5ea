// The optimiser's shaders: a per-tensor sum of squares (one workgroup: strided partial sums,
// then a tree in workgroup memory; a fixed order, no atomics), the global-norm clip scale, and
// AdamW with decoupled weight decay. Sizes come from a uniform, so one shader serves every tensor.
import type { PlanShader } from "../../../plan/format.js";
import type { DeviceProfile } from "../../../plan/profile.js";
import {
  OPTIMIZER_HYPER_FIELDS,
  OPTIMIZER_UNIFORM_FIELDS,
  OPTIMIZER_WORKGROUP,
  type TrainingPlan,
} from "../../../plan/training.js";
import { type BuiltShader, WgslBuilder, f32Literal as f, u32Literal as u } from "../wgsl.js";

const hyper = (field: (typeof OPTIMIZER_HYPER_FIELDS)[number]) =>
  `hyper[${u(OPTIMIZER_HYPER_FIELDS.indexOf(field))}]`;

function toShader(built: BuiltShader): PlanShader {
  return {
    wgsl: built.code,
    entryPoint: "main",
    workgroupSize: built.workgroupSize,
    layout: built.bindings.map((b) => ({ binding: b.binding, type: b.kind })),
  };
}

export function optimizerShaders(profile: DeviceProfile): TrainingPlan["optimizer"] {
  return {
    accumulate: accumulate(profile),
    sumSquares: sumSquares(profile),
    clipScale: clipScale(profile),
    adamw: adamw(profile),
  };
}

const ELEMENTWISE_BUILTINS =
  "@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, " +
  "@builtin(local_invocation_index) lid: u32";

function accumulate(profile: DeviceProfile): PlanShader {
  const b = new WgslBuilder(profile);
  b.storage("grad", "f32", "read");
  b.storage("control", "f32", "read");
  b.storage("acc", "f32", "read_write");
  b.uniform("params", "Params", OPTIMIZER_UNIFORM_FIELDS);
  b.entryPoint(OPTIMIZER_WORKGROUP, ELEMENTWISE_BUILTINS, () => {
    b.line(`let i = (wid.y * nwg.x + wid.x) * ${u(OPTIMIZER_WORKGROUP)} + lid;`);
    b.line("if (i >= params.elements) { return; }");
    b.line(`let previous = select(acc[i], ${f(0)}, control[1] != ${f(0)});`);
    b.line("acc[i] = previous + control[0] * grad[i];");
  });
  return toShader(b.build());
}

function sumSquares(profile: DeviceProfile): PlanShader {
  const b = new WgslBuilder(profile);
  b.storage("grad", "f32", "read");
  b.storage("partials", "f32", "read_write");
  b.uniform("params", "Params", OPTIMIZER_UNIFORM_FIELDS);
  const n = OPTIMIZER_WORKGROUP;
  b.declare(`var<workgroup> lanes: array<f32, ${n}>;`);
  b.entryPoint(n, "@builtin(local_invocation_index) lid: u32", () => {
    b.line(`var acc = ${f(0)};`);
    b.block(`for (var i = lid; i < params.elements; i += ${u(n)})`, () => {
      b.line("acc += grad[i] * grad[i];");
    });
    b.line("lanes[lid] = acc;");
    b.line("workgroupBarrier();");
    b.block(`for (var stride = ${u(n / 2)}; stride > 0u; stride = stride / 2u)`, () => {
      b.block("if (lid < stride)", () => b.line("lanes[lid] += lanes[lid + stride];"));
      b.line("workgroupBarrier();");
    });
    b.block("if (lid == 0u)", () => b.line("partials[params.slot] = lanes[0];"));
  });
  return toShader(b.build());
}

function clipScale(profile: DeviceProfile): PlanShader {
  const b = new WgslBuilder(profile);
  b.storage("partials", "f32", "read");
  b.storage("hyper", "f32", "read");
  b.storage("clip", "f32", "read_write");
  b.uniform("params", "Params", OPTIMIZER_UNIFORM_FIELDS);
  b.entryPoint(1, "", () => {
    b.line(`var total = ${f(0)};`);
    b.block("for (var i = 0u; i < params.count; i++)", () => b.line("total += partials[i];"));
    b.line("let norm = sqrt(total);");
    b.line("clip[0] = norm;");
    b.line(`clip[1] = min(${f(1)}, ${hyper("maxNorm")} / (norm + ${f(1e-6)}));`);
  });
  return toShader(b.build());
}

function adamw(profile: DeviceProfile): PlanShader {
  const b = new WgslBuilder(profile);
  b.storage("grad", "f32", "read");
  b.storage("hyper", "f32", "read");
  b.storage("clip", "f32", "read");
  b.storage("weight", "f32", "read_write");
  b.storage("m", "f32", "read_write");
  b.storage("v", "f32", "read_write");
  b.uniform("params", "Params", OPTIMIZER_UNIFORM_FIELDS);
  const n = OPTIMIZER_WORKGROUP;
  b.entryPoint(n, ELEMENTWISE_BUILTINS, () => {
    b.line(`let i = (wid.y * nwg.x + wid.x) * ${u(n)} + lid;`);
    b.line("if (i >= params.elements) { return; }");
    b.line("let g = grad[i] * clip[1];");
    b.line(`let b1 = ${hyper("beta1")};`);
    b.line(`let b2 = ${hyper("beta2")};`);
    b.line(`let m1 = b1 * m[i] + (${f(1)} - b1) * g;`);
    b.line(`let v1 = b2 * v[i] + (${f(1)} - b2) * g * g;`);
    b.line("m[i] = m1;");
    b.line("v[i] = v1;");
    b.line(`let m_hat = m1 / ${hyper("biasCorrection1")};`);
    b.line(`let v_hat = v1 / ${hyper("biasCorrection2")};`);
    b.line(`let decay = select(${f(0)}, ${hyper("weightDecay")}, params.decay != 0u);`);
    b.line("let w = weight[i];");
    b.line(
      `weight[i] = w - ${hyper("lr")} * (m_hat / (sqrt(v_hat) + ${hyper("eps")}) + decay * w);`,
    );
  });
  return toShader(b.build());
}
