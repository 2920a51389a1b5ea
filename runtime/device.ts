// Adapter and device setup shared by Node (Dawn) and browsers (navigator.gpu).
// Browser-safe: no Node imports, no `process`.
import { formatBytes } from "../plan/bytes.js";

/** Limits raised to the adapter's maximum when it offers more than the WebGPU default. */
export const RAISED_LIMITS = [
  "maxStorageBuffersPerShaderStage",
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupsPerDimension",
] as const;

/** Features enabled whenever the adapter has them; kernels check `features` before using them. */
export const WANTED_FEATURES = ["shader-f16", "subgroups", "timestamp-query"] as const;

export interface MoecDeviceOptions {
  /** Default "high-performance". */
  powerPreference?: GPUPowerPreference;
  /** Extra features to enable when present. */
  optionalFeatures?: readonly string[];
  /** Request WebGPU default limits and no features, e.g. to check portability. */
  defaultsOnly?: boolean;
  label?: string;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for software adapters such as lavapipe/SwiftShader (when the browser says so). */
  isFallbackAdapter: boolean;
}

export interface DeviceErrorRecord {
  kind: "validation" | "out-of-memory" | "internal" | "lost";
  message: string;
}

export interface MoecDevice {
  device: GPUDevice;
  adapter: GPUAdapter;
  adapterInfo: AdapterSummary;
  /** Features actually enabled on the device. */
  features: Set<string>;
  /** WGSL language features of the GPU object (packed_4x8_integer_dot_product, ...). */
  wgslLanguageFeatures: Set<string>;
  /** The device's limits (raised ones included). */
  limits: GPUSupportedLimits;
  /** Uncaptured errors and device loss, in the order they happened. */
  errors: DeviceErrorRecord[];
  /** Set once the device is lost (also recorded in `errors`). */
  lost: GPUDeviceLostInfo | null;
  describeAdapter(): string;
}

const MAX_RECORDED_ERRORS = 1000;

export class NoAdapterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NoAdapterError";
  }
}

export async function requestMoecDevice(
  gpu: GPU,
  opts: MoecDeviceOptions = {},
): Promise<MoecDevice> {
  const getAdapter = async (): Promise<GPUAdapter> => {
    const found = await gpu.requestAdapter({
      powerPreference: opts.powerPreference ?? "high-performance",
    });
    if (!found) throw new NoAdapterError("WebGPU is available but no adapter was found.");
    return found;
  };
  let adapter = await getAdapter();

  const offeredFeatures = adapter.features;
  const features = opts.defaultsOnly
    ? []
    : [...WANTED_FEATURES, ...(opts.optionalFeatures ?? [])].filter((f) => offeredFeatures.has(f));
  const requiredLimits: Record<string, number> = {};
  if (!opts.defaultsOnly) {
    const offered = adapter.limits as unknown as Record<string, number | undefined>;
    for (const name of RAISED_LIMITS) {
      const value = offered[name];
      // Only names the implementation knows: unknown limit names make requestDevice fail.
      if (typeof value === "number") requiredLimits[name] = value;
    }
  }

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      label: opts.label ?? "moec",
      requiredFeatures: [...new Set(features)] as GPUFeatureName[],
      requiredLimits,
    });
  } catch (err) {
    // Some implementations refuse limits they advertised; fall back to the defaults, on a fresh
    // adapter because a failed request may have consumed this one.
    if (opts.defaultsOnly) throw err;
    adapter = await getAdapter();
    device = await adapter.requestDevice({ label: opts.label ?? "moec" });
  }

  const info = adapter.info;
  const adapterInfo: AdapterSummary = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
  };
  const result: MoecDevice = {
    device,
    adapter,
    adapterInfo,
    features: new Set(device.features),
    // Older browsers and bindings lack the set; no language features then.
    wgslLanguageFeatures: new Set(gpu.wgslLanguageFeatures ?? []),
    limits: device.limits,
    errors: [],
    lost: null,
    describeAdapter: () => describeAdapter(adapterInfo, result.features, device.limits),
  };

  // Capped so that an error in a hot loop cannot eat memory.
  const record = (entry: DeviceErrorRecord) => {
    if (result.errors.length < MAX_RECORDED_ERRORS) result.errors.push(entry);
  };
  void device.lost.then((lostInfo) => {
    result.lost = lostInfo;
    record({
      kind: "lost",
      message: `device lost (${lostInfo.reason}): ${lostInfo.message}`,
    });
  });
  // addEventListener rather than onuncapturederror, so callers can still set their own handler.
  device.addEventListener("uncapturederror", (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    record({ kind: errorKind(error), message: error.message });
  });
  return result;
}

function errorKind(error: GPUError): DeviceErrorRecord["kind"] {
  const name = error.constructor?.name ?? "";
  if (name.includes("OutOfMemory")) return "out-of-memory";
  if (name.includes("Internal")) return "internal";
  return "validation";
}

/** One line naming the adapter, plus the features and limits that matter to moec's kernels. */
export function describeAdapter(
  info: AdapterSummary,
  features: ReadonlySet<string>,
  limits: GPUSupportedLimits,
): string {
  const name =
    [info.vendor, info.architecture, info.device].filter((s) => s).join(" ") || "unknown";
  const description = info.description ? ` (${info.description})` : "";
  const fallback = info.isFallbackAdapter ? " [software/fallback]" : "";
  const wanted = WANTED_FEATURES.filter((f) => features.has(f));
  return (
    `${name}${description}${fallback}; features: ${wanted.join(", ") || "none"}; ` +
    `storage buffers/stage ${limits.maxStorageBuffersPerShaderStage}, ` +
    `workgroup storage ${limits.maxComputeWorkgroupStorageSize} B, ` +
    `invocations/workgroup ${limits.maxComputeInvocationsPerWorkgroup}, ` +
    `max binding ${formatBytes(limits.maxStorageBufferBindingSize)}`
  );
}
