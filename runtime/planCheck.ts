// What a plan asks of the device, checked before any work: its format version, the shader
// features it was compiled for and the storage bindings its kernels use. Browser-safe.
import { PLAN_FORMAT, type Plan } from "../plan/format.js";
import { MoecRunError } from "./errors.js";

export function checkPlan(device: GPUDevice, plan: Plan): void {
  if (plan.format !== PLAN_FORMAT) {
    throw new MoecRunError(
      `unsupported plan format '${String(plan.format)}' (expected ${PLAN_FORMAT})`,
    );
  }
  const missing = plan.profile.features.filter((f) => !device.features.has(f));
  if (missing.length > 0) {
    throw new MoecRunError(
      `plan ${plan.name} was compiled for features this device lacks: ${missing.join(", ")}`,
    );
  }
  const limit = device.limits.maxStorageBuffersPerShaderStage;
  for (const k of plan.kernels) {
    const storage = plan.shaders[k.shader]!.layout.filter((e) => e.type !== "uniform").length;
    if (storage > limit) {
      throw new MoecRunError(
        `kernel ${k.name} binds ${storage} storage buffers; this device allows ${limit}`,
        k.name,
      );
    }
  }
}
