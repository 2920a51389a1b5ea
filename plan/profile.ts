// Device limits and features that code generation targets, stored in the plan. Goldens use the
// frozen BASELINE_PROFILE, so emitted WGSL never depends on the adapter that runs the tests.

export type ShaderFeature = "shader-f16" | "subgroups";

export interface DeviceProfile {
  readonly name: string;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly features: readonly ShaderFeature[];
  /**
   * WGSL language features the kernels may use (navigator.gpu.wgslLanguageFeatures; nothing to
   * request on the device): `packed_4x8_integer_dot_product` gives the BitNet kernels
   * dot4I8Packed. Absent: none.
   */
  readonly wgslLanguageFeatures?: readonly string[];
}

const PACKED_DOT = "packed_4x8_integer_dot_product";

/** The WebGPU default limits with no optional features: what every adapter offers. */
export const BASELINE_PROFILE: DeviceProfile = Object.freeze({
  name: "baseline",
  maxStorageBuffersPerShaderStage: 8,
  maxStorageBufferBindingSize: 134217728,
  maxComputeWorkgroupsPerDimension: 65535,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16384,
  features: Object.freeze([]) as readonly ShaderFeature[],
});

/** The profile of a live device (its limits and the shader features it enabled). */
export function profileOfDevice(device: {
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySetLike<string>;
  /** The GPU object's WGSL language features, where known. */
  readonly wgslLanguageFeatures?: ReadonlySetLike<string>;
}): DeviceProfile {
  const l = device.limits;
  const features = (["shader-f16", "subgroups"] as const).filter((f) => device.features.has(f));
  return Object.freeze({
    name: "device",
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    features,
    ...(device.wgslLanguageFeatures?.has(PACKED_DOT)
      ? { wgslLanguageFeatures: Object.freeze([PACKED_DOT]) }
      : {}),
  });
}

/** The part of a Set that profileOfDevice needs (GPUSupportedFeatures is set-like). */
interface ReadonlySetLike<T> {
  has(value: T): boolean;
}
