// What every kernel emitter shares: its context, its result, and KernelWriter, which declares
// bindings in the fixed order inputs -> outputs -> uniform and emits the thread-per-item prologue.
import type { Graph, Node } from "../../ir/graph.js";
import type { OpName } from "../../ir/ops.js";
import type { Dim, TensorType } from "../../ir/types.js";
import type { Dispatch, GemmTiling, PlanGemm } from "../../../plan/format.js";
import type { DeviceProfile } from "../../../plan/profile.js";
import { type SizeExpr, constantSize, shapeSize } from "../../../plan/size.js";
import { type BuiltShader, type WgslScalar, WgslBuilder, sizeToWgsl, u32Literal } from "../wgsl.js";

export interface EmitContext {
  readonly graph: Graph;
  readonly profile: DeviceProfile;
  /** The fields of the plan's uniform struct, in order (runtime dims and derived scalars). */
  readonly paramFields: readonly string[];
  /** The uniform field of a runtime scalar that belongs to one node (e.g. a capacity C). */
  readonly nodeParam: (node: number) => string;
  /** Codegen choices fixed by the compile options; default: chosen per kernel. */
  readonly tiling?: TilingChoices;
  /**
   * Values stored as f16 on the GPU (the f32 weights of a compile with `weights: "f16"`): kernels
   * bind them as f16 and widen every load to f32, so all arithmetic stays f32.
   */
  readonly halfValues?: ReadonlySet<number>;
  /**
   * Values too large for one binding (stacked expert weights), split by whole experts: the
   * element count of each part. Kernels bind every part and route each load to its part.
   */
  readonly splitValues?: ReadonlyMap<number, readonly number[]>;
}

/** Codegen choices a compile can fix (benchmarks sweep them); each kernel records its own. */
export interface TilingChoices {
  /** Fields of every GEMM's tiling; the rest come from chooseGemm (gemm/tiling.ts). */
  readonly gemm?: Partial<GemmTiling>;
}

export type { Dispatch } from "../../../plan/format.js";

export interface EmittedKernel {
  /** Short description for the kernel name, e.g. "linear". */
  readonly label: string;
  readonly shader: BuiltShader;
  /** Which IR value each storage binding holds; the uniform binding is `paramsBinding`. */
  readonly operands: readonly KernelOperand[];
  readonly paramsBinding: number;
  readonly dispatch: Dispatch;
  /** The GEMM the kernel tiles, if any (recorded in the plan). */
  readonly gemm?: PlanGemm;
}

/** The IR value a storage binding holds (`part`: which part of a value split across bindings). */
export interface KernelOperand {
  readonly binding: number;
  readonly value: number;
  readonly part?: number;
}

export type KernelEmitter<K extends OpName> = (node: Node<K>, ctx: EmitContext) => EmittedKernel;

export class CodegenError extends Error {}

export const PARAMS = "params";
const ELEMENTWISE_WORKGROUP = 64;

export class KernelWriter {
  readonly b: WgslBuilder;
  readonly #ctx: EmitContext;
  readonly #operands: KernelOperand[] = [];
  #paramsBinding = -1;
  #dispatch: Dispatch | undefined;
  #gemm: PlanGemm | undefined;

  constructor(ctx: EmitContext) {
    this.#ctx = ctx;
    this.b = new WgslBuilder(ctx.profile);
  }

  /** The emit context: graph, device profile and the compile's codegen choices. */
  get ctx(): EmitContext {
    return this.#ctx;
  }

  /** Records the GEMM this kernel tiles (gemm/tiling.ts tileGemm), for the plan. */
  recordGemm(gemm: PlanGemm): void {
    if (this.#gemm) throw new CodegenError("a kernel records one GEMM tiling");
    this.#gemm = gemm;
  }

  type(value: number): TensorType {
    return this.#ctx.graph.values[value]!.type;
  }

  input(name: string, value: number): string {
    return this.#bindRead(name, value, wgslElement(this.type(value)), 1);
  }

  output(name: string, value: number): string {
    return this.#bind(name, value, "read_write");
  }

  /**
   * A read-only f32 input viewed as `array<vec{width}<f32>>`, for loads of `width` consecutive
   * elements at once (the caller keeps indices in vectors and the row width a multiple of width).
   */
  inputVec(name: string, value: number, width: 2 | 4): string {
    const t = this.type(value);
    if (t.dtype !== "f32")
      throw new CodegenError(`vector input ${name} must be f32, not ${t.dtype}`);
    // WgslBuilder.storage takes a scalar element type; the vector type is pasted as one.
    return this.#bindRead(name, value, `vec${width}<f32>` as WgslScalar, width);
  }

  /**
   * An f32 output viewed as `array<vec{width}<f32>>`, for stores of `width` consecutive elements
   * at once (the caller keeps indices in vectors).
   */
  outputVec(name: string, value: number, width: 2 | 4): string {
    const t = this.type(value);
    if (t.dtype !== "f32")
      throw new CodegenError(`vector output ${name} must be f32, not ${t.dtype}`);
    this.b.storage(name, `vec${width}<f32>` as WgslScalar, "read_write");
    this.#operands.push({ binding: this.#operands.length, value });
    return name;
  }

  /**
   * The entry point for one workgroup per item (tiled kernels): `g` is the item, the same for the
   * whole workgroup, so control flow that depends only on it stays uniform (subgroup operations
   * may follow); `lid` is the local invocation index. Workgroups past `count` (a WGSL u32
   * expression equal to `items` at run time) return at once. With `subgroups`, `sg_id` and
   * `sg_size` are in scope (subgroup_invocation_id, subgroup_size).
   */
  perWorkgroup(
    items: SizeExpr,
    count: string,
    workgroupSize: number,
    body: (g: string, lid: string) => void,
    options: { subgroups?: boolean } = {},
  ): void {
    this.#declareParams();
    this.#dispatch = { items, perWorkgroup: 1 };
    let params =
      "@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, " +
      "@builtin(local_invocation_index) lid: u32";
    if (options.subgroups) {
      this.b.useFeature("subgroups");
      params +=
        ", @builtin(subgroup_invocation_id) sg_id: u32, @builtin(subgroup_size) sg_size: u32";
    }
    this.b.entryPoint(workgroupSize, params, () => {
      this.b.line("let g = wid.y * nwg.x + wid.x;");
      this.b.line(`if (g >= ${count}) { return; }`);
      body("g", "lid");
    });
  }

  /** A WGSL u32 expression for the element count of dims (runtime dims come from the uniform). */
  size(dims: readonly Dim[]): string {
    return sizeToWgsl(shapeSize(dims), PARAMS);
  }

  /** The uniform field of a node-specific runtime scalar. */
  nodeParam(node: number): string {
    return `${PARAMS}.${this.#ctx.nodeParam(node)}`;
  }

  /**
   * The entry point for one invocation per item: `i` is the item index, items beyond the
   * count return at once. Workgroups may be laid out 2-D (num_workgroups.x per row).
   */
  perItem(items: SizeExpr, body: (i: string) => void, workgroupSize = ELEMENTWISE_WORKGROUP): void {
    this.#declareParams();
    this.#dispatch = { items, perWorkgroup: workgroupSize };
    const params =
      "@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, " +
      "@builtin(local_invocation_index) lid: u32";
    this.b.entryPoint(workgroupSize, params, () => {
      this.b.line(`let i = (wid.y * nwg.x + wid.x) * ${u32Literal(workgroupSize)} + lid;`);
      this.b.line(`if (i >= ${sizeToWgsl(items, PARAMS)}) { return; }`);
      body("i");
    });
  }

  /** The entry point for exactly one workgroup; `lid` is the local invocation index. */
  singleWorkgroup(workgroupSize: number, body: (lid: string) => void): void {
    this.#declareParams();
    this.#dispatch = { items: constantSize(1), perWorkgroup: 1 };
    this.b.entryPoint(workgroupSize, "@builtin(local_invocation_index) lid: u32", () =>
      body("lid"),
    );
  }

  finish(label: string): EmittedKernel {
    if (!this.#dispatch) throw new CodegenError(`kernel ${label} has no entry point`);
    const shader = this.b.build();
    const code = widenHalfLoads(routeSplitLoads(shader.code, this.#split), this.#half);
    return {
      label,
      shader: { ...shader, code },
      operands: this.#operands,
      paramsBinding: this.#paramsBinding,
      dispatch: this.#dispatch,
      ...(this.#gemm && { gemm: this.#gemm }),
    };
  }

  #declareParams(): void {
    this.#paramsBinding = this.#operands.length;
    this.b.uniform(PARAMS, "Params", this.#ctx.paramFields);
  }

  /** Half bindings by name, with the f32 type their loads widen to. */
  readonly #half = new Map<string, string>();
  /** Split values by name: their parts' binding names, element counts and load type. */
  readonly #split = new Map<string, SplitBinding>();

  /**
   * A read-only binding of `elem` (f32, i32, u32 or vecN<f32>) elements, `width` values each.
   * Stored as f16 (halfValues): bound as f16 and every load widened. Split (splitValues): one
   * binding per part and every load routed to its part; the kernel's code sees one array.
   */
  #bindRead(name: string, value: number, elem: WgslScalar, width: number): string {
    const half = this.#ctx.halfValues?.has(value) ?? false;
    const stored = (half ? elem.replace("f32", "f16") : elem) as WgslScalar;
    if (half) this.b.useFeature("shader-f16");
    const parts = this.#ctx.splitValues?.get(value);
    const names = parts ? parts.map((_, p) => `${name}_p${p}`) : [name];
    names.forEach((n, p) => {
      this.b.storage(n, stored, "read");
      this.#operands.push({ binding: this.#operands.length, value, ...(parts && { part: p }) });
      if (half) this.#half.set(n, elem);
    });
    if (parts) this.#split.set(name, { names, counts: parts.map((n) => n / width), type: elem });
    return name;
  }

  #bind(name: string, value: number, access: "read" | "read_write"): string {
    const elem = wgslElement(this.type(value));
    this.b.storage(name, elem, access);
    this.#operands.push({ binding: this.#operands.length, value });
    return name;
  }
}

interface SplitBinding {
  readonly names: readonly string[];
  /** Elements (of the binding's element type) in each part. */
  readonly counts: readonly number[];
  readonly type: string;
}

/** Each `name[index]` with its index expression, replaced by what `replace` makes of them. */
function replaceLoads(
  code: string,
  name: string,
  replace: (load: string, index: string) => string,
): string {
  let out = "";
  let at = 0;
  const pattern = new RegExp(`(?<![A-Za-z0-9_])${name}\\[`, "g");
  for (let m = pattern.exec(code); m; m = pattern.exec(code)) {
    let depth = 0;
    let end = m.index + name.length;
    for (; end < code.length; end++) {
      if (code[end] === "[") depth++;
      else if (code[end] === "]" && --depth === 0) break;
    }
    const load = code.slice(m.index, end + 1);
    out += code.slice(at, m.index) + replace(load, load.slice(name.length + 1, -1));
    at = end + 1;
    pattern.lastIndex = at;
  }
  return out + code.slice(at);
}

/**
 * Every load `name[index]` of a split binding becomes `load_name(index)`, a function that picks
 * the part by comparing the index with the parts' starts (appended to the shader).
 */
function routeSplitLoads(code: string, split: ReadonlyMap<string, SplitBinding>): string {
  for (const [name, { names, counts, type }] of split) {
    code = replaceLoads(code, name, (_, index) => `load_${name}(${index})`);
    const lines = [`fn load_${name}(i: u32) -> ${type} {`];
    let start = 0;
    names.forEach((part, p) => {
      const offset = start === 0 ? "i" : `i - ${start}u`;
      if (p === names.length - 1) lines.push(`  return ${part}[${offset}];`);
      else lines.push(`  if (i < ${start + counts[p]!}u) { return ${part}[${offset}]; }`);
      start += counts[p]!;
    });
    code += `\n${lines.join("\n")}\n}\n`;
  }
  return code;
}

/**
 * Every load `name[index]` of a half binding becomes `f32(name[index])` (or vecN<f32>(...)):
 * the emitters write f32 code and stay unaware of how weights are stored. Bindings are only
 * read, so every occurrence is a load.
 */
function widenHalfLoads(code: string, half: ReadonlyMap<string, string>): string {
  for (const [name, wide] of half) code = replaceLoads(code, name, (load) => `${wide}(${load})`);
  return code;
}

export function wgslElement(t: TensorType): WgslScalar {
  if (t.dtype === "i8" || t.dtype === "t2") return "u32"; // packed words (plan/bitnet.ts)
  if (t.dtype === "f16") {
    // f16 storage needs f32 accumulation rewrites in every kernel; -O0 keeps to f32 for now.
    throw new CodegenError("f16 tensors are not supported by the -O0 code generator yet");
  }
  return t.dtype;
}

/** A dim that must be known at compile time (weight shapes, feature widths). */
export function staticDim(d: Dim | undefined, what: string): number {
  if (typeof d !== "number") throw new CodegenError(`${what} must be a compile-time size`);
  return d;
}
