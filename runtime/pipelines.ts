// Compute pipelines of a plan's shaders: compiled once per device and WGSL text (concurrent
// sessions share one compile), with explicit bind group layouts; compilation errors come back
// as numbered source with a caret under each message. Browser-safe.
import type { Plan, PlanShader } from "../plan/format.js";
import { MoecRunError, ShaderCompileError } from "./errors.js";

export interface CompiledShader {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroupLayout: GPUBindGroupLayout;
}

// Pipelines by WGSL text, per device; concurrent sessions share one compile.
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<CompiledShader>>>();

/** One compiled pipeline per shader of the plan, in the plan's order. */
export async function compileShaders(device: GPUDevice, plan: Plan): Promise<CompiledShader[]> {
  let cache = pipelineCache.get(device);
  if (!cache) pipelineCache.set(device, (cache = new Map()));
  const pending = plan.shaders.map((shader, i) => {
    const kernel = plan.kernels.find((k) => k.shader === i)?.name ?? `shader ${i}`;
    let compiled = cache.get(shader.wgsl);
    if (!compiled) {
      compiled = compileShader(device, shader, kernel);
      cache.set(shader.wgsl, compiled);
      compiled.catch(() => cache.delete(shader.wgsl));
    }
    return compiled;
  });
  return Promise.all(pending);
}

/** The synchronous calls run inside one error scope each; the async results are awaited after. */
async function compileShader(
  device: GPUDevice,
  shader: PlanShader,
  kernel: string,
): Promise<CompiledShader> {
  device.pushErrorScope("validation");
  const module = device.createShaderModule({ label: kernel, code: shader.wgsl });
  const bindGroupLayout = device.createBindGroupLayout({
    label: kernel,
    entries: shader.layout.map((e) => ({
      binding: e.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: e.type },
    })),
  });
  const layout = device.createPipelineLayout({
    label: kernel,
    bindGroupLayouts: [bindGroupLayout],
  });
  const scope = device.popErrorScope();
  const pipeline = device.createComputePipelineAsync({
    label: kernel,
    layout,
    compute: { module, entryPoint: shader.entryPoint },
  });
  pipeline.catch(() => undefined); // reported below, with the source
  const info = await module.getCompilationInfo();
  if (info.messages.some((m) => m.type === "error")) {
    await scope;
    throw new ShaderCompileError(kernel, annotateSource(shader.wgsl, info.messages));
  }
  const error = await scope;
  if (error)
    throw new MoecRunError(
      `kernel ${kernel}: ${error.message}\n${annotateSource(shader.wgsl, [])}`,
      kernel,
    );
  try {
    return { pipeline: await pipeline, bindGroupLayout };
  } catch (err) {
    throw new MoecRunError(
      `kernel ${kernel}: pipeline creation failed: ${(err as Error).message}\n${annotateSource(shader.wgsl, [])}`,
      kernel,
    );
  }
}

/** Numbered source with a caret and the message under each line that has one. */
export function annotateSource(code: string, messages: readonly GPUCompilationMessage[]): string {
  const lines = code.replace(/\n$/, "").split("\n");
  const width = String(lines.length).length;
  const out: string[] = [];
  lines.forEach((line, i) => {
    out.push(`${String(i + 1).padStart(width)} | ${line}`);
    for (const m of messages) {
      if (m.lineNum !== i + 1) continue;
      out.push(
        `${" ".repeat(width)} | ${" ".repeat(Math.max(0, m.linePos - 1))}^ ${m.type}: ${m.message}`,
      );
    }
  });
  for (const m of messages.filter((m) => m.lineNum < 1 || m.lineNum > lines.length)) {
    out.push(`${m.type}: ${m.message}`);
  }
  return out.join("\n");
}
