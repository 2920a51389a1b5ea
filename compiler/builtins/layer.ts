// What a built-in layer is (its parameters, weights and lowering), and the parameter and
// check helpers the layer families share.
import type { HyperType } from "../../grammar/ast.js";
import type { GraphBuilder } from "../ir/graph.js";
import type { Activation, InitKind, OpAttrs, OpName } from "../ir/ops.js";
import type { Dim } from "../ir/types.js";
import type { Routing, Value } from "../values.js";

export interface BuiltinParam {
  readonly name: string;
  readonly type: HyperType;
  /** Default from the arguments bound so far; absent means required. */
  readonly default?: (args: Args) => Value;
}

export interface WeightDecl {
  /** Suffix after the instance path; stacked expert tensors are named by stackedExpertName. */
  readonly suffix: string;
  readonly shape: readonly number[];
  /** Default f32; t2 for the ternary weights of BitNet layers (plan/bitnet.ts). */
  readonly dtype?: "t2";
  readonly init: InitKind;
  readonly fanIn: number;
  /** The full name of an earlier weight of this shape to share instead (tied embeddings). */
  readonly tie?: string;
}

/** Read access to bound arguments, typed by the caller's expectation. */
export interface Args {
  int(name: string): number;
  float(name: string): number;
  bool(name: string): boolean;
  string(name: string): string;
  act(name: string): Activation;
}

/** What a call needs from the elaborator. */
export interface CallContext {
  readonly builder: GraphBuilder;
  readonly path: string;
  readonly args: Args;
  weight(suffix: string): number;
  /** Adds a node, attributing it to this instance; shape errors are reported at the call. */
  op<K extends OpName>(op: K, inputs: readonly number[], attrs: OpAttrs[K]): number[];
  /** Set when lowering for generation (LowerOptions.decode): the KV-cache helpers. */
  readonly decode?: {
    readonly context: number;
    /** The graph's `positions: i32[rows]` input (made once, shared by every layer). */
    positions(rows: Dim): number;
    /** A persistent state of this instance, `<path>.<suffix>`, zero when a session starts. */
    state(suffix: string, shape: readonly number[]): number;
  };
  /** Registers an MoE routing site for the runtime's statistics. */
  routingSite(
    routing: Routing,
    routed: number,
    kept: number,
    probs: number,
    /** Rows routed: T, or T·h after a split into sub-tokens. */
    rows: Dim,
  ): void;
}

export interface BuiltinLayer {
  readonly name: string;
  readonly params: readonly BuiltinParam[];
  /** Returns a message per invalid argument: [argument name, message]. */
  readonly validate: (args: Args) => [string, string][];
  readonly weights: (args: Args) => WeightDecl[];
  /** Number of inputs of a call and what they are, for messages. */
  readonly inputs: readonly ("tensor" | "routing")[];
  readonly call: (ctx: CallContext, inputs: readonly (number | Routing)[]) => Value;
}

export const int = (name: string, def?: (a: Args) => number): BuiltinParam => ({
  name,
  type: "int",
  default: def && ((a) => ({ kind: "int", value: def(a) })),
});

export const float = (name: string, def: number): BuiltinParam => ({
  name,
  type: "float",
  default: () => ({ kind: "float", value: def }),
});

export const bool = (name: string, def: (a: Args) => boolean): BuiltinParam => ({
  name,
  type: "bool",
  default: (a) => ({ kind: "bool", value: def(a) }),
});

export const string = (name: string, def: string): BuiltinParam => ({
  name,
  type: "string",
  default: () => ({ kind: "string", value: def }),
});

export const act = (name: string, def: Activation): BuiltinParam => ({
  name,
  type: "act",
  default: () => ({ kind: "act", value: def }),
});

export function positive(args: Args, ...names: string[]): [string, string][] {
  return names
    .filter((n) => args.int(n) < 1)
    .map((n) => [n, `${n} must be a positive integer, got ${args.int(n)}`]);
}

export function oneOf(a: Args, name: string, values: readonly string[]): [string, string][] {
  return values.includes(a.string(name))
    ? []
    : [
        [
          name,
          `${name} must be one of ${values.map((v) => `"${v}"`).join(", ")}, got "${a.string(name)}"`,
        ],
      ];
}

export function gatedBiasCheck(a: Args): [string, string][] {
  return a.bool("gated") && a.bool("bias")
    ? [["bias", "gated (SwiGLU) feed-forward layers have no bias"]]
    : [];
}

export function tensor(v: number): Value {
  return { kind: "tensor", value: v };
}

export const inputTensor = (inputs: readonly (number | Routing)[], i = 0): number =>
  inputs[i] as number;
