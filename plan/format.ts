// The execution plan: kernels (WGSL + explicit layouts), buffers with sizes as functions of the
// runtime dims, buffer reuse, dispatch order and routing sites. Plain JSON-serialisable data, so
// a page can load a precompiled model. The compiler writes it (compiler/plan.ts); the runtime
// needs nothing else.
import type { CapacityLimit } from "./capacity.js";
import type { DType, Dim } from "./dims.js";
import type { DeviceProfile } from "./profile.js";
import type { SizeExpr } from "./size.js";

/** Bumped whenever a plan written by an older compiler would be read wrongly. */
export const PLAN_FORMAT = "moec-plan/2";

/**
 * How a seeded initial value of a weight is drawn (runtime/random.ts). The X-MoE router's
 * temperature starts at 0.3 with softmax-family gating and 0.07 with sigmoid gating
 * (2404.15045 Table 9).
 */
export type InitKind =
  | "linear"
  | "bias"
  | "norm_weight"
  | "norm_bias"
  | "embedding"
  | "router"
  | "temperature_softmax"
  | "temperature_sigmoid";

/** How a shader binds a buffer. */
export type BindingKind = "read-only-storage" | "storage" | "uniform";

/** How many workgroups a kernel needs: ceil(items / perWorkgroup), split 2-D when too many. */
export interface Dispatch {
  readonly items: SizeExpr;
  readonly perWorkgroup: number;
}

export interface Plan {
  readonly format: typeof PLAN_FORMAT;
  readonly name: string;
  readonly profile: DeviceProfile;
  /** Graph symbols bound from the input shapes at run time (T, ...). */
  readonly symbols: readonly string[];
  /** The u32 fields of the uniform buffer every kernel reads, in order. */
  readonly params: readonly PlanParam[];
  readonly inputs: readonly PlanTensor[];
  readonly outputs: readonly PlanTensor[];
  readonly buffers: readonly PlanBuffer[];
  /** Where every IR value lives (weights, inputs and views included). */
  readonly values: readonly PlanValue[];
  /** Unique shaders; kernels refer to them by index (repeated layers share one). */
  readonly shaders: readonly PlanShader[];
  /** In dispatch order. */
  readonly kernels: readonly PlanKernel[];
  readonly routing: readonly PlanRoutingSite[];
}

export type PlanParam =
  | { readonly field: string; readonly kind: "symbol"; readonly symbol: string }
  | {
      /** C = expertCapacity(limit, rows, topK, experts) (plan/capacity.ts), computed at run time. */
      readonly field: string;
      readonly kind: "capacity";
      readonly node: number;
      readonly rows: SizeExpr;
      readonly topK: number;
      readonly experts: number;
      readonly limit: CapacityLimit;
    };

export interface PlanTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  readonly value: number;
  readonly buffer: number;
  /**
   * Token ids feeding an embedding must lie in [0, idLimit), and so must the positions a
   * generation plan writes its KV caches at (`positions`: idLimit is the cache's length);
   * checked before a run.
   */
  readonly idLimit?: number;
  /** What idLimit bounds, for messages (default: token ids). */
  readonly idKind?: "positions";
}

interface BufferBase {
  readonly id: number;
  readonly name: string;
  readonly bytes: SizeExpr;
}

export type PlanBuffer =
  | (BufferBase & { readonly kind: "params" })
  | (BufferBase & {
      readonly kind: "weight";
      readonly dtype: DType;
      /** The whole tensor's shape (of a stacked expert tensor: all experts). */
      readonly shape: readonly number[];
      readonly init: InitKind;
      readonly fanIn: number;
      /**
       * A stacked expert tensor too large for one binding is split by whole experts over several
       * buffers of the same name: this one holds experts [start, end).
       */
      readonly experts?: readonly [start: number, end: number];
    })
  | (BufferBase & { readonly kind: "input" })
  /** Persistent across runs (a KV cache): zero when the session starts, written in place. */
  | (BufferBase & {
      readonly kind: "state";
      readonly dtype: DType;
      readonly shape: readonly number[];
    })
  | (BufferBase & {
      readonly kind: "activation";
      /** Root values (not views) it holds over the run, in order. */
      readonly values: readonly number[];
      /** Kernel indices of its first write and last read; kernels.length = read back. */
      readonly first: number;
      readonly last: number;
    });

export interface PlanValue {
  readonly value: number;
  readonly buffer: number;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  /** Still intact after the run (outputs, routing statistics, `keep`): readable by the runtime. */
  readonly kept: boolean;
}

export interface PlanShader {
  readonly wgsl: string;
  readonly entryPoint: string;
  readonly workgroupSize: readonly [number, number, number];
  readonly layout: readonly { readonly binding: number; readonly type: BindingKind }[];
}

export interface PlanKernel {
  /** `k03_linear_moe.router`: index, what it computes, the scope of its first node. */
  readonly name: string;
  /** IR node ids it implements (several for fused kernels). */
  readonly nodes: readonly number[];
  readonly shader: number;
  readonly bindings: readonly { readonly binding: number; readonly buffer: number }[];
  readonly dispatch: Dispatch;
  /** The GEMM the kernel computes and how it was tiled (tiled -O2 kernels only). */
  readonly gemm?: PlanGemm;
}

/** How a GEMM is cut into workgroup tiles (the compiler's gemm/tiling.ts chooses it). */
export interface GemmTiling {
  /** Rows of a tile; every invocation of the workgroup works on the same rows. */
  readonly tm: number;
  /** Columns per invocation, strided by the workgroup size: a tile is tm x wg·tn outputs. */
  readonly tn: number;
  /** Invocations per workgroup. */
  readonly wg: number;
  /** Elements per load along K: 4 (vec4), 2 or 1; it divides K. */
  readonly vec: 1 | 2 | 4;
  /**
   * Subgroup sharing of A: rows are loaded `share` at a time, one per lane, and broadcast (0: no
   * subgroups; every invocation loads every row). Kernels check subgroup_size at run time and
   * take the unshared loop on subgroups smaller than `share`.
   */
  readonly share: 0 | 4 | 8;
}

/** A tiled GEMM of a kernel: rows x inner -> out per weight matrix, `weights` matrices per output. */
export interface PlanGemm {
  /** Output columns of one weight matrix. */
  readonly out: number;
  /** K: the reduced dimension. */
  readonly inner: number;
  /** Weight matrices read per output: 2 for a gated pair (two accumulators per output). */
  readonly weights: number;
  readonly tiling: GemmTiling;
}

export interface PlanRoutingSite {
  readonly scope: string;
  readonly experts: number;
  readonly topK: number;
  readonly heads: number;
  /** Routed rows S (tokens times heads). */
  readonly rows: SizeExpr;
  /** Buffers of the statistics: counts i32[heads, E], top1 i32[E], probSum f32[E], dropped i32[heads]. */
  readonly counts: number;
  readonly top1: number;
  readonly probSum: number;
  readonly dropped: number;
}
