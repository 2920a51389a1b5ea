// What a run reads back: its outputs, the routing counters and any kept values asked for, packed
// into one staging buffer, and decoded into tensors and routing statistics. Browser-safe.
import type { DimBindings } from "../plan/dims.js";
import type { Plan } from "../plan/format.js";
import { dimSize, evalSize } from "../plan/size.js";
import type { TensorData } from "./inputs.js";
import { type RoutingStats, routingStats } from "./statistics.js";

interface Region {
  readonly buffer: number;
  readonly bytes: number;
  readonly offset: number;
}

export interface ReadResults {
  readonly outputs: ReadonlyMap<string, TensorData>;
  readonly routing: readonly RoutingStats[];
  readonly values: ReadonlyMap<number, TensorData>;
}

export class Readback {
  readonly #plan: Plan;
  readonly #dims: DimBindings;
  readonly #wanted: readonly number[];
  readonly #regions: Region[] = [];
  /** Read-back outputs: their index in plan.outputs and their region. */
  readonly #outputs: (readonly [number, number])[];
  readonly #routing: (readonly [number, number, number, number])[];
  readonly #values: number[];
  /** Staging bytes the regions take. */
  bytes = 0;

  /**
   * `wanted`: kept IR values to read besides the outputs (checked by checkWantedValues);
   * `outputs`: the outputs to read, by name (default all; a trainer wants the loss, not every
   * gradient).
   */
  constructor(
    plan: Plan,
    dims: DimBindings,
    wanted: readonly number[],
    outputs?: ReadonlySet<string>,
  ) {
    this.#plan = plan;
    this.#dims = dims;
    this.#wanted = wanted;
    this.#outputs = plan.outputs.flatMap((o, i) =>
      outputs && !outputs.has(o.name)
        ? []
        : [[i, this.#region(o.buffer, this.#tensorBytes(o.value))] as const],
    );
    this.#routing = plan.routing.map((r) => {
      const [e, h] = [r.experts * 4, r.heads * 4];
      return [
        this.#region(r.counts, e * r.heads),
        this.#region(r.top1, e),
        this.#region(r.probSum, e),
        this.#region(r.dropped, h),
      ] as const;
    });
    this.#values = wanted.map((v) => this.#region(plan.values[v]!.buffer, this.#tensorBytes(v)));
  }

  /** Copies every region from its GPU buffer (by plan buffer id) into the staging buffer. */
  copy(
    encoder: GPUCommandEncoder,
    buffers: readonly (GPUBuffer | undefined)[],
    staging: GPUBuffer,
  ): void {
    for (const r of this.#regions)
      encoder.copyBufferToBuffer(buffers[r.buffer]!, 0, staging, r.offset, r.bytes);
  }

  /** The results, from the mapped staging buffer's bytes. */
  results(staged: ArrayBuffer): ReadResults {
    const plan = this.#plan;
    const slice = (index: number) => {
      const r = this.#regions[index]!;
      return staged.slice(r.offset, r.offset + r.bytes);
    };
    const readInt = (index: number) => new Int32Array(slice(index));
    const readFloat = (index: number) => new Float32Array(slice(index));
    const tensor = (value: number, index: number): TensorData => {
      const v = plan.values[value]!;
      return {
        shape: v.shape.map((d) => evalSize(dimSize(d), this.#dims)),
        data: v.dtype === "i32" ? readInt(index) : readFloat(index),
      };
    };
    return {
      outputs: new Map(
        this.#outputs.map(([i, region]) => {
          const o = plan.outputs[i]!;
          return [o.name, tensor(o.value, region)];
        }),
      ),
      routing: plan.routing.map((site, i) => {
        const [c, t, p, d] = this.#routing[i]!;
        return routingStats(
          site,
          evalSize(site.rows, this.#dims),
          readInt(c),
          readInt(t),
          readFloat(p),
          readInt(d),
        );
      }),
      values: new Map(this.#wanted.map((v, i) => [v, tensor(v, this.#values[i]!)])),
    };
  }

  #region(buffer: number, bytes: number): number {
    this.#regions.push({ buffer, bytes, offset: this.bytes });
    this.bytes += bytes;
    return this.#regions.length - 1;
  }

  #tensorBytes(value: number): number {
    const v = this.#plan.values[value]!;
    return 4 * v.shape.reduce<number>((n, d) => n * evalSize(dimSize(d), this.#dims), 1);
  }
}
