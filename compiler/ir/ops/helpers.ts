// Shape checks, cost arithmetic and reference-tensor construction shared by the op families.
import { type Dim, type TensorType, dimEquals, formatType } from "../types.js";
import { type Cost, type RefTensor, ShapeError } from "./def.js";

export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
export const rows = (shape: readonly number[]): number => numel(shape.slice(0, -1));
export const last = <T>(xs: readonly T[]): T => xs[xs.length - 1]!;

export function bytesOf(...shapes: readonly (readonly number[])[]): number {
  return 4 * shapes.reduce((n, s) => n + numel(s), 0);
}

export function elementwiseCost(flopsPerElement: number) {
  return (ins: readonly number[][], outs: readonly number[][]): Cost => ({
    macs: 0,
    flops: flopsPerElement * numel(outs[0]!),
    bytes: bytesOf(...ins, ...outs),
  });
}

/** A (batched) matrix product: two flops per multiply-accumulate; bytes of the given shapes. */
export function matmulCost(macs: number, shapes: readonly (readonly number[])[]): Cost {
  return { macs, flops: 2 * macs, bytes: bytesOf(...shapes) };
}

export function expect(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ShapeError(message);
}

export function float(t: TensorType, what: string): void {
  expect(t.dtype !== "i32", `${what} must be a float tensor, got ${formatType(t)}`);
}

export function rank(t: TensorType, r: number, what: string): void {
  expect(t.shape.length === r, `${what} must have rank ${r}, got ${formatType(t)}`);
}

export function sameDim(a: Dim, b: Dim, message: string): void {
  expect(dimEquals(a, b), message);
}

export function tensor(shape: readonly number[], data?: Float64Array): RefTensor {
  return { shape, data: data ?? new Float64Array(numel(shape)) };
}
