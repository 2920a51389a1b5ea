// The errors a run reports: bad plans, weights or inputs, shader compilation, device loss.
// Browser-safe.

export class MoecRunError extends Error {
  /** The kernel that failed, when known. */
  readonly kernel: string | undefined;
  constructor(message: string, kernel?: string) {
    super(message);
    this.name = "MoecRunError";
    this.kernel = kernel;
  }
}

export class ShaderCompileError extends MoecRunError {
  constructor(kernel: string, annotatedSource: string) {
    super(`kernel ${kernel}: WGSL compilation failed\n${annotatedSource}`, kernel);
    this.name = "ShaderCompileError";
  }
}

/** `T=128, B=2` for messages; "fixed sizes" when the plan has no symbols. */
export function formatDims(dims: Readonly<Record<string, number>>): string {
  return (
    Object.entries(dims)
      .map(([k, v]) => `${k}=${v}`)
      .join(", ") || "fixed sizes"
  );
}
