// Values of the elaborator: compile-time constants, layer instances, and forward-time tensors.
import type { Definition, HyperType, Identifier } from "../grammar/ast.js";
import type { Activation } from "./ir/ops.js";
import type { BuiltinLayer } from "./builtins.js";

export type Value =
  | { readonly kind: "int"; readonly value: number }
  | { readonly kind: "float"; readonly value: number }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "act"; readonly value: Activation }
  /** A definition or built-in named but not yet called. */
  | { readonly kind: "callable"; readonly target: Callable }
  | { readonly kind: "instance"; readonly instance: Instance }
  | { readonly kind: "stack"; readonly path: string; readonly items: readonly Instance[] }
  | { readonly kind: "tensor"; readonly value: number }
  | { readonly kind: "routing"; readonly routing: Routing }
  /** The result of an expression that already produced a diagnostic; absorbs further errors. */
  | { readonly kind: "error" };

export type Callable =
  | { readonly kind: "definition"; readonly definition: Definition; readonly file: string }
  | { readonly kind: "builtin-layer"; readonly layer: BuiltinLayer }
  | { readonly kind: "function"; readonly name: BuiltinFunction };

export type BuiltinFunction = "split" | "join" | Activation;

/** A layer instance: a user definition or a built-in, with its arguments and weights. */
export interface Instance {
  /** Dotted weight-name prefix, e.g. `blocks.3.moe`; empty for the top-level model. */
  readonly path: string;
  readonly callable: Exclude<Callable, { kind: "function" }>;
  readonly args: ReadonlyMap<string, Value>;
  /** For user layers: hyper-parameters and bindings visible to the forward. */
  readonly env?: Env;
  /** For built-ins: IR weight values by suffix (`weight`, `fc1.bias`, ...). */
  readonly weights: ReadonlyMap<string, number>;
}

/** The outputs of a router call, consumed by an expert bank. */
export interface Routing {
  readonly expert: number;
  readonly gate: number;
  readonly experts: number;
  readonly topK: number;
  readonly path: string;
}

/** Lexical environment: a chain of name tables ending at a file's definitions. */
export class Env {
  readonly vars = new Map<string, Value>();
  /**
   * Names this scope binds further down (body members or forward assignments) that are not
   * bound yet, by the identifier that binds them: a use of one is "used before it is defined".
   */
  readonly pending = new Map<string, Identifier>();
  /** The name whose value is being evaluated now: a use of it is a self reference. */
  defining: string | undefined;
  constructor(
    readonly file: string,
    readonly parent?: Env,
    /** The weight-name path of the instance whose code this is, for IR node scopes. */
    readonly path: string = parent?.path ?? "",
  ) {}

  lookup(name: string): Value | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }

  child(): Env {
    return new Env(this.file, this, this.path);
  }
}

export function describe(v: Value): string {
  switch (v.kind) {
    case "int":
    case "float":
      return `${v.kind} ${v.value}`;
    case "bool":
      return `bool ${v.value}`;
    case "string":
      return `string "${v.value}"`;
    case "act":
      return `activation ${v.value}`;
    case "callable":
      return v.target.kind === "function" ? `function ${v.target.name}` : "a layer definition";
    case "instance":
      return `layer instance '${v.instance.path}'`;
    case "stack":
      return `repeated stack '${v.path}'`;
    case "tensor":
      return "a tensor";
    case "routing":
      return "a routing decision";
    case "error":
      return "an invalid value";
  }
}

/** Whether a value fits a declared hyper-parameter type (ints widen to float). */
export function coerce(v: Value, type: HyperType): Value | undefined {
  if (v.kind === "error") return v;
  if (type === "float" && (v.kind === "int" || v.kind === "float"))
    return { kind: "float", value: v.value };
  return v.kind === type ? v : undefined;
}
