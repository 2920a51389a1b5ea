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
  /** Where the bytes start in the staging buffer, and in their own buffer. */
  readonly offset: number;
  readonly from: number;
}

/** Which outputs to read back, and which of them only as their last row. */
export interface OutputSelection {
  /** Default: all. */
  readonly names?: ReadonlySet<string>;
  /** Read as [1, ...] (a generator needs the last position's logits, not the prompt's). */
  readonly lastRow?: ReadonlySet<string>;
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
  readonly #outputs: (readonly [number, number, boolean])[];
  readonly #routing: (readonly [number, number, number, number])[];
  readonly #values: number[];
  /** Staging bytes the regions take. */
  bytes = 0;

  /**
   * `wanted`: kept IR values to read besides the outputs (checked by checkWantedValues);
   * `outputs`: the outputs to read, and those read only as their last row (a trainer wants the
   * loss, not every gradient).
   */
  constructor(
    plan: Plan,
    dims: DimBindings,
    wanted: readonly number[],
    outputs: OutputSelection = {},
  ) {
    this.#plan = plan;
    this.#dims = dims;
    this.#wanted = wanted;
    this.#outputs = plan.outputs.flatMap((o, i): (readonly [number, number, boolean])[] => {
      if (outputs.names && !outputs.names.has(o.name)) return [];
      const bytes = this.#tensorBytes(o.value);
      if (!outputs.lastRow?.has(o.name)) return [[i, this.#region(o.buffer, bytes), false]];
      const rows = evalSize(dimSize(plan.values[o.value]!.shape[0]!), dims);
      const row = bytes / rows;
      return [[i, this.#region(o.buffer, row, (rows - 1) * row), true]];
    });
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
      encoder.copyBufferToBuffer(buffers[r.buffer]!, r.from, staging, r.offset, r.bytes);
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
    const tensor = (value: number, index: number, lastRow = false): TensorData => {
      const v = plan.values[value]!;
      const shape = v.shape.map((d) => evalSize(dimSize(d), this.#dims));
      return {
        shape: lastRow ? [1, ...shape.slice(1)] : shape,
        data: v.dtype === "i32" ? readInt(index) : readFloat(index),
      };
    };
    return {
      outputs: new Map(
        this.#outputs.map(([i, region, lastRow]) => {
          const o = plan.outputs[i]!;
          return [o.name, tensor(o.value, region, lastRow)];
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

  #region(buffer: number, bytes: number, from = 0): number {
    this.#regions.push({ buffer, bytes, offset: this.bytes, from });
    this.bytes += bytes;
    return this.#regions.length - 1;
  }

  #tensorBytes(value: number): number {
    const v = this.#plan.values[value]!;
    return 4 * v.shape.reduce<number>((n, d) => n * evalSize(dimSize(d), this.#dims), 1);
  }
}
