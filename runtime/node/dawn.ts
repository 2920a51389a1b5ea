// Node-only entry: WebGPU through Dawn (the `webgpu` npm package).
import {
  requestMoecDevice,
  NoAdapterError,
  type MoecDevice,
  type MoecDeviceOptions,
} from "../device.js";

export interface NodeGpuOptions {
  /** Dawn options for `create()`, e.g. "backend=vulkan" or "enable-dawn-features=...". */
  dawnOptions?: string[];
  /**
   * Route Dawn's event polling through setTimeout instead of setImmediate (default true;
   * MOEC_DAWN_SPIN=1 turns it off). See installYieldingTicks.
   */
  yieldToWorkers?: boolean;
}

const SETUP_HINT =
  "No WebGPU adapter found. On Linux without a GPU, run `scripts/setup.sh` to install " +
  "Mesa's Vulkan software driver (lavapipe).";

// The object from create() must stay referenced for the life of the process: if it is garbage
// collected while Dawn still processes events the process crashes at random.
let keptGpu: GPU | undefined;
let gpuPromise: Promise<GPU> | undefined;

/** The Dawn GPU object (created once per process), with the WebGPU globals installed. */
export function getNodeGPU(options: NodeGpuOptions = {}): Promise<GPU> {
  gpuPromise ??= loadDawn(options).catch((err: unknown) => {
    gpuPromise = undefined; // let a later call retry, e.g. after setup.sh
    throw err;
  });
  return gpuPromise;
}

/** getNodeGPU + requestMoecDevice, with a setup hint when there is no adapter. */
export async function createNodeDevice(
  options: MoecDeviceOptions & NodeGpuOptions = {},
): Promise<MoecDevice> {
  const gpu = await getNodeGPU(options);
  try {
    return await requestMoecDevice(gpu, options);
  } catch (err) {
    if (err instanceof NoAdapterError) throw new NoAdapterError(SETUP_HINT);
    throw err;
  }
}

async function loadDawn(options: NodeGpuOptions): Promise<GPU> {
  let dawn: typeof import("webgpu");
  try {
    dawn = await import("webgpu");
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new NoAdapterError(
      `Could not load the 'webgpu' package (Dawn for Node): ${reason}. Run \`scripts/setup.sh\`.`,
    );
  }
  const globals = dawn.globals as Record<string, unknown>;
  // GPUBufferUsage, GPUMapMode, ... as in a browser; keep anything the host already defines.
  for (const [name, value] of Object.entries(globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  const yieldTicks = options.yieldToWorkers ?? process.env.MOEC_DAWN_SPIN !== "1";
  if (yieldTicks) installYieldingTicks(globals);
  keptGpu = dawn.create(options.dawnOptions ?? []);
  return keptGpu;
}

/** Methods whose native side starts Dawn's event polling (they return promises). */
const POLLING_METHODS: Record<string, string[]> = {
  GPU: ["requestAdapter"],
  GPUAdapter: ["requestDevice"],
  GPUDevice: ["createComputePipelineAsync", "createRenderPipelineAsync", "popErrorScope"],
  GPUBuffer: ["mapAsync"],
  GPUQueue: ["onSubmittedWorkDone"],
  GPUShaderModule: ["getCompilationInfo"],
};

const PATCHED = Symbol.for("moec.dawnYieldingTicks");
// Captured at load so fake timers in tests cannot stall Dawn.
const realSetTimeout = globalThis.setTimeout;
const realSetImmediate = globalThis.setImmediate;

// Short waits (tiny kernels) keep the fast setImmediate polling for this long.
const SPIN_MS = 1;

/**
 * While a Dawn promise is pending, the binding polls by calling the *global* setImmediate again
 * from each poll. That spins a core, and on a 2-core machine it starves lavapipe's worker
 * threads. We swap in our own setImmediate only while Dawn's code runs (inside the methods above
 * and inside the poll callbacks), so nothing else sees the change: it polls at full speed for
 * SPIN_MS after a call, then through a 1 ms setTimeout.
 * Median of 5 runs, lavapipe on 2 cores, naive f32 matmul + readback (spin -> this):
 * 64^3 0.81 -> 0.84 ms, 256^3 36 -> 22 ms, 512^3 193 -> 116 ms. Without the spin budget,
 * 64^3 took 1.29 ms (timer granularity).
 */
function installYieldingTicks(globals: Record<string, unknown>): void {
  let waitStart = 0;
  const yieldingSetImmediate = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    const run = () => withYieldingTicks(() => callback(...args));
    if (performance.now() - waitStart < SPIN_MS) return realSetImmediate(run);
    return realSetTimeout(run, 1);
  }) as typeof setImmediate;

  function withYieldingTicks<T>(fn: () => T): T {
    const previous = globalThis.setImmediate;
    globalThis.setImmediate = yieldingSetImmediate;
    try {
      return fn();
    } finally {
      globalThis.setImmediate = previous;
    }
  }

  for (const [className, methods] of Object.entries(POLLING_METHODS)) {
    const cls = globals[className] as { prototype?: Record<string | symbol, unknown> } | undefined;
    const proto = cls?.prototype;
    if (!proto || proto[PATCHED]) continue;
    for (const method of methods) {
      const original = proto[method];
      if (typeof original !== "function") continue;
      proto[method] = function (this: unknown, ...args: unknown[]) {
        waitStart = performance.now();
        return withYieldingTicks(() => original.apply(this, args));
      };
    }
    proto[PATCHED] = true;
  }
}
