// WgslBuilder: the only way moec produces WGSL text. It owns bindings, literals and feature
// gates (`enable f16;` only when used, checked against the device profile).
import type { BindingKind } from "../../plan/format.js";
import type { DeviceProfile, ShaderFeature } from "../../plan/profile.js";
import { type SizeExpr, isConstantSize } from "../../plan/size.js";

export type WgslScalar = "f32" | "f16" | "i32" | "u32";

/** How a binding appears in the explicit bind group layout. */
export type { BindingKind } from "../../plan/format.js";

export interface ShaderBinding {
  readonly binding: number;
  readonly name: string;
  readonly kind: BindingKind;
}

export interface BuiltShader {
  readonly code: string;
  readonly bindings: readonly ShaderBinding[];
  readonly workgroupSize: readonly [number, number, number];
}

export class WgslError extends Error {}

/** A line emitter with indentation, plus the declarations that must precede the kernel body. */
export class WgslBuilder {
  readonly #profile: DeviceProfile;
  readonly #features = new Set<ShaderFeature>();
  readonly #declarations: string[] = [];
  readonly #helpers = new Map<string, string[]>();
  readonly #bindings: ShaderBinding[] = [];
  #lines: string[] = [];
  #indent = 0;
  #workgroupSize: [number, number, number] | undefined;

  constructor(profile: DeviceProfile) {
    this.#profile = profile;
  }

  /** Declares `var<storage, ...> name: array<elem>` at the next binding number. */
  storage(name: string, elem: WgslScalar, access: "read" | "read_write"): string {
    this.#useType(elem);
    const binding = this.#bindings.length;
    this.#declarations.push(
      `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<${elem}>;`,
    );
    this.#bindings.push({
      binding,
      name,
      kind: access === "read" ? "read-only-storage" : "storage",
    });
    return name;
  }

  /** Declares a uniform struct of u32 fields (the runtime dims) and its binding. */
  uniform(name: string, structName: string, fields: readonly string[]): string {
    const binding = this.#bindings.length;
    this.#declarations.push(`struct ${structName} {`);
    // An empty struct is not valid WGSL; a model without symbols still gets one field.
    for (const f of fields.length > 0 ? fields : ["unused"])
      this.#declarations.push(`  ${f}: u32,`);
    this.#declarations.push("}");
    this.#declarations.push(`@group(0) @binding(${binding}) var<uniform> ${name}: ${structName};`);
    this.#bindings.push({ binding, name, kind: "uniform" });
    return name;
  }

  /** A module-scope declaration (const, struct) placed before helpers and the entry point. */
  declare(text: string): void {
    this.#declarations.push(text);
  }

  /** Emits a helper function once per shader, however many times it is requested. */
  helper(name: string, emit: (b: WgslBuilder) => void): string {
    if (!this.#helpers.has(name)) {
      const saved = [this.#lines, this.#indent] as const;
      this.#lines = [];
      this.#indent = 0;
      emit(this);
      this.#helpers.set(name, this.#lines);
      [this.#lines, this.#indent] = saved;
    }
    return name;
  }

  /** A `//` comment line in the body. */
  comment(text: string): void {
    this.line(`// ${text}`);
  }

  /**
   * An f32 value: an exact literal, or for NaN and infinities a call of a helper that bitcasts
   * their bits at run time (WGSL const-evaluation rejects non-finite values, even via bitcast).
   */
  f32(x: number): string {
    const f = Math.fround(x);
    if (Number.isFinite(f)) return f32Literal(f);
    this.helper("f32_from_bits", () => {
      this.block("fn f32_from_bits(bits: u32) -> f32", () =>
        this.line("return bitcast<f32>(bits);"),
      );
    });
    const bits = Number.isNaN(f) ? 0x7fc00000 : f > 0 ? 0x7f800000 : 0xff800000;
    return `f32_from_bits(0x${bits.toString(16)}u)`;
  }

  /**
   * The key top-k selection ranks score `x` by: `x` itself, with NaN below every number (as
   * -inf), so a row of NaN probabilities still picks k distinct, valid experts (the lowest
   * indices) and cannot disturb other rows. The float64 reference ranks the same way
   * (compiler/ir/ops/math.ts topKIndices).
   */
  rankKey(x: string): string {
    const negInf = this.f32(-Infinity);
    this.helper("rank_key", () => {
      this.block("fn rank_key(x: f32) -> f32", () =>
        this.line(`return select(x, ${negInf}, (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u);`),
      );
    });
    return `rank_key(${x})`;
  }

  line(text: string): void {
    this.#lines.push(text === "" ? "" : "  ".repeat(this.#indent) + text);
  }

  /** `header {`, the body one level deeper, `}`. */
  block(header: string, body: () => void): void {
    this.line(`${header} {`);
    this.#indent++;
    body();
    this.#indent--;
    this.line("}");
  }

  /** `if (cond) { ... } else { ... }`. */
  ifElse(cond: string, then: () => void, otherwise: () => void): void {
    this.line(`if (${cond}) {`);
    this.#indent++;
    then();
    this.#indent--;
    this.line("} else {");
    this.#indent++;
    otherwise();
    this.#indent--;
    this.line("}");
  }

  /** The compute entry point `main`; records the workgroup size for the plan. */
  entryPoint(workgroupSize: number, params: string, body: () => void): void {
    if (workgroupSize > this.#profile.maxComputeInvocationsPerWorkgroup) {
      throw new WgslError(`workgroup size ${workgroupSize} exceeds the profile's limit`);
    }
    this.#workgroupSize = [workgroupSize, 1, 1];
    this.line(`@compute @workgroup_size(${workgroupSize})`);
    this.block(`fn main(${params})`, body);
  }

  /** Marks a shader feature as used; build() emits its `enable` and checks the profile. */
  useFeature(feature: ShaderFeature): void {
    this.#features.add(feature);
  }

  build(): BuiltShader {
    if (!this.#workgroupSize) throw new WgslError("shader has no entry point");
    const enables: string[] = [];
    for (const [feature, directive] of [
      ["shader-f16", "f16"],
      ["subgroups", "subgroups"],
    ] as const) {
      if (!this.#features.has(feature)) continue;
      if (!this.#profile.features.includes(feature)) {
        throw new WgslError(`shader uses ${feature}, which profile ${this.#profile.name} lacks`);
      }
      enables.push(`enable ${directive};`);
    }
    const sections = [enables, this.#declarations, ...this.#helpers.values(), this.#lines];
    const code = sections
      .filter((s) => s.length > 0)
      .map((s) => s.join("\n"))
      .join("\n\n");
    return { code: code + "\n", bindings: this.#bindings, workgroupSize: this.#workgroupSize };
  }

  #useType(t: WgslScalar): void {
    if (t === "f16") this.useFeature("shader-f16");
  }
}

// ---------------------------------------------------------------------------------------------
// Literals: exact, and safe to paste next to any operator (negatives are parenthesized).

const F32_MAX = 3.4028234663852886e38;

/**
 * The shortest decimal that rounds back to the same f32 as `x` (x is first rounded to f32).
 * Finite values only: NaN and infinities need WgslBuilder.f32.
 */
export function f32Literal(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw new WgslError(`${x} has no WGSL literal; use WgslBuilder.f32`);
  if (Object.is(f, -0)) return "(-0.0f)";
  // Shortest digits first; 17 digits give the double itself, which is the f32 value exactly.
  // The text must not exceed the f32 range before rounding: Tint rejects 3.4028235e38f.
  let text = f.toPrecision(17);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = f.toPrecision(digits);
    const value = Number(candidate);
    if (Math.fround(value) === f && Math.abs(value) <= F32_MAX) {
      text = candidate;
      break;
    }
  }
  // toPrecision may give "12" or "1e+21": WGSL needs a '.' or an exponent, and no '+'.
  text = text.replace("e+", "e");
  if (!/[.e]/.test(text)) text += ".0";
  return f < 0 ? `(${text}f)` : `${text}f`;
}

export function u32Literal(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new WgslError(`not a u32: ${n}`);
  return `${n}u`;
}

export function i32Literal(n: number): string {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) {
    throw new WgslError(`not an i32: ${n}`);
  }
  if (n === -0x80000000) return "bitcast<i32>(0x80000000u)";
  return n < 0 ? `(${n}i)` : `${n}i`;
}

/** A WGSL u32 expression for a size: `params.sym_T * 768u`, or a literal when constant. */
export function sizeToWgsl(size: SizeExpr, params: string): string {
  if (isConstantSize(size)) return u32Literal(size.coef);
  const factors = size.syms.map((s) => `${params}.${symbolField(s)}`);
  if (size.coef !== 1) factors.push(u32Literal(size.coef));
  return factors.length === 1 ? factors[0]! : `(${factors.join(" * ")})`;
}

/** The uniform field holding a graph symbol; prefixed so a symbol never clashes with WGSL. */
export function symbolField(sym: string): string {
  return `sym_${sym}`;
}
