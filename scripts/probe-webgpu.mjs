// Prints the WebGPU adapter Dawn finds; exit 0 if there is one, 1 if not.
// Used by scripts/setup.sh to decide whether the Vulkan software driver is needed.
let create;
try {
  ({ create } = await import("webgpu"));
} catch (err) {
  console.error(`probe-webgpu: cannot load the 'webgpu' package: ${err.message}`);
  process.exit(1);
}

const timer = setTimeout(() => {
  console.error("probe-webgpu: requestAdapter() did not answer within 30 s");
  process.exit(1);
}, 30_000);

const gpu = create([]);
const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
clearTimeout(timer);
if (!adapter) {
  console.error("probe-webgpu: no WebGPU adapter found");
  process.exit(1);
}
const { vendor, architecture, device, description } = adapter.info;
console.log(`probe-webgpu: ${[vendor, architecture, device].filter(Boolean).join(" ")}`);
console.log(`  description: ${description}`);
console.log(`  features: ${[...adapter.features].sort().join(", ")}`);
const { maxStorageBuffersPerShaderStage, maxComputeWorkgroupStorageSize } = adapter.limits;
console.log(
  `  storage buffers/stage: ${maxStorageBuffersPerShaderStage}, ` +
    `workgroup storage: ${maxComputeWorkgroupStorageSize} B`,
);
process.exit(0);
