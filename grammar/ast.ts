// The typed AST of a `.moe` file: plain readonly data, every node with a source span.

/** A half-open source range; lines and columns are 1-based, offsets 0-based. */
export interface Span {
  readonly file: string;
  readonly startOffset: number;
  readonly endOffset: number;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface Comment {
  readonly kind: "line" | "block";
  readonly text: string;
  readonly span: Span;
}

export interface SourceFile {
  readonly kind: "File";
  readonly path: string;
  readonly imports: readonly ImportDecl[];
  readonly definitions: readonly Definition[];
  /** Every comment in source order, kept for a future formatter. */
  readonly comments: readonly Comment[];
  readonly span: Span;
}

/** `import "std/moe.moe"`: brings every definition of that file into scope. */
export interface ImportDecl {
  readonly kind: "Import";
  readonly path: string;
  readonly span: Span;
}

/** `layer Name(...) { ... }` (reusable) or `model Name(...) { ... }` (an entry point). */
export interface Definition {
  readonly kind: "Definition";
  readonly role: "layer" | "model";
  readonly name: Identifier;
  readonly params: readonly HyperParam[];
  readonly members: readonly Member[];
  readonly span: Span;
}

export type HyperType = "int" | "float" | "bool" | "string" | "act";

/** `heads: int = 4`: a compile-time hyper-parameter. */
export interface HyperParam {
  readonly kind: "HyperParam";
  readonly name: Identifier;
  readonly type: HyperType;
  readonly typeSpan: Span;
  readonly default?: Expr;
  readonly span: Span;
}

export type Member = Binding | Requirement | Forward;

/**
 * `name = expr` in a definition body: a compile-time constant, a sub-layer
 * instance (`Linear(dim, dim)`) or a stack (`repeat n as i { Block(...) }`).
 */
export interface Binding {
  readonly kind: "Binding";
  readonly name: Identifier;
  readonly value: Expr;
  readonly span: Span;
}

/** `require dim % heads == 0, "message"`: a user-written check, reported at the use site. */
export interface Requirement {
  readonly kind: "Requirement";
  readonly condition: Expr;
  readonly message?: StringLiteral;
  readonly span: Span;
}

export interface Forward {
  readonly kind: "Forward";
  readonly inputs: readonly TensorDecl[];
  readonly outputs: readonly TensorDecl[];
  readonly body: readonly Statement[];
  readonly span: Span;
}

/** `x: f32[T, dim]`; an unnamed output is given the name `y`. */
export interface TensorDecl {
  readonly kind: "TensorDecl";
  readonly name: Identifier;
  readonly type: TensorTypeExpr;
  readonly span: Span;
}

export type DTypeName = "f32" | "f16" | "i32";

export interface TensorTypeExpr {
  readonly kind: "TensorType";
  readonly dtype: DTypeName;
  readonly dims: readonly Expr[];
  readonly span: Span;
}

export type Statement = Assign | Return;

export interface Assign {
  readonly kind: "Assign";
  readonly name: Identifier;
  readonly value: Expr;
  readonly span: Span;
}

export interface Return {
  readonly kind: "Return";
  readonly values: readonly Expr[];
  readonly span: Span;
}

export type Expr =
  | IntLiteral
  | FloatLiteral
  | BoolLiteral
  | StringLiteral
  | Identifier
  | Unary
  | Binary
  | Conditional
  | Call
  | FieldAccess
  | Repeat;

export interface IntLiteral {
  readonly kind: "Int";
  /** Kept as text too so huge values are reported as written, not as 1e+21. */
  readonly value: number;
  readonly text: string;
  readonly span: Span;
}

export interface FloatLiteral {
  readonly kind: "Float";
  readonly value: number;
  readonly text: string;
  readonly span: Span;
}

export interface BoolLiteral {
  readonly kind: "Bool";
  readonly value: boolean;
  readonly span: Span;
}

export interface StringLiteral {
  readonly kind: "String";
  readonly value: string;
  readonly span: Span;
}

export interface Identifier {
  readonly kind: "Identifier";
  readonly name: string;
  readonly span: Span;
}

export type UnaryOp = "-" | "!";

export interface Unary {
  readonly kind: "Unary";
  readonly op: UnaryOp;
  readonly operand: Expr;
  readonly span: Span;
}

export type BinaryOp =
  "+" | "-" | "*" | "/" | "%" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "&&" | "||";

export interface Binary {
  readonly kind: "Binary";
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

/** `if cond then a else b`, decided at compile time. */
export interface Conditional {
  readonly kind: "Conditional";
  readonly condition: Expr;
  readonly then: Expr;
  readonly otherwise: Expr;
  readonly span: Span;
}

export interface Argument {
  readonly kind: "Argument";
  /** Present for `name = value` arguments. */
  readonly name?: Identifier;
  readonly value: Expr;
  readonly span: Span;
}

export interface Call {
  readonly kind: "Call";
  readonly callee: Expr;
  readonly args: readonly Argument[];
  readonly span: Span;
}

/** `a.b`: a field of a sub-layer instance, e.g. `blocks.attn`. */
export interface FieldAccess {
  readonly kind: "FieldAccess";
  readonly object: Expr;
  readonly property: Identifier;
  readonly span: Span;
}

/** `repeat n as i { Block(i) }`: a stack of n instances, indexed 0..n-1 in weight names. */
export interface Repeat {
  readonly kind: "Repeat";
  readonly count: Expr;
  readonly index?: Identifier;
  readonly body: Expr;
  readonly span: Span;
}
