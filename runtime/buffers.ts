// Small GPU buffer helpers shared by the session's parts. Browser-safe.

/** Usage of every storage buffer: bound to kernels, written from the host, copied for read-back. */
export const STORAGE_USAGE = () =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

export function writeBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  data: Float32Array | Int32Array | Uint32Array | Uint16Array,
): void {
  // @webgpu/types wants ArrayBuffer-backed views; writeBuffer copies, so any view will do.
  device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
}
