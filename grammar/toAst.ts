// Building AST nodes for the parser's actions: spans, literal values, operator precedence and
// the size limits. A node whose parts error recovery left missing is skipped (undefined)
// rather than guessed: the file already has a syntax error, so nothing downstream runs on it.
import { tokenMatcher, type IToken } from "chevrotain";
import type * as A from "./ast.js";
import { fileSpan, type Diagnostic } from "./diagnostics.js";
import type { Positions } from "./positions.js";
import * as T from "./tokens.js";

/** Longest run of binary operators, or of prefixes and suffixes, in one expression. */
export const MAX_CHAIN = 1000;

// Loosest to tightest; all binary operators are left-associative.
const precedence: Record<A.BinaryOp, number> = {
  "||": 1,
  "&&": 2,
  "==": 3,
  "!=": 3,
  "<": 4,
  "<=": 4,
  ">": 4,
  ">=": 4,
  "+": 5,
  "-": 5,
  "*": 6,
  "/": 6,
  "%": 6,
};

const escapes: Record<string, string> = { n: "\n", t: "\t", '"': '"', "\\": "\\" };

type Maybe<N> = N | undefined;
type SpanPart = A.Span | IToken | undefined;

/** Tokens that error recovery invented have no text or position: they count as missing. */
function real(t: IToken | undefined): t is IToken {
  return t !== undefined && !t.isInsertedInRecovery && t.startOffset >= 0;
}

function complete<N>(items: readonly Maybe<N>[]): items is N[] {
  return items.every((item) => item !== undefined);
}

function defined<N>(items: readonly Maybe<N>[]): N[] {
  return items.filter((item): item is N => item !== undefined);
}

/** The spans of a list's first and last items (spreading a whole list could overflow the stack). */
function ends(items: readonly { span: A.Span }[]): SpanPart[] {
  return [items[0]?.span, items[items.length - 1]?.span];
}

function clip(text: string): string {
  return text.length > 30 ? `${text.slice(0, 30)}...` : text;
}

export class AstBuilder {
  /** Problems found while building: literal values, too long expressions. */
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly positions: Positions) {}

  sourceFile(
    top: Maybe<{ imports: Maybe<A.ImportDecl>[]; definitions: Maybe<A.Definition>[] }>,
    comments: readonly IToken[],
  ): A.SourceFile {
    return {
      kind: "File",
      path: this.positions.file,
      imports: defined(top?.imports ?? []),
      definitions: defined(top?.definitions ?? []),
      comments: comments.map((t) => ({
        kind: t.image.startsWith("//") ? "line" : "block",
        text: t.image,
        span: this.positions.token(t),
      })),
      span: this.positions.all(),
    };
  }

  importDecl(keyword: IToken, path: IToken): Maybe<A.ImportDecl> {
    const value = this.string(path);
    return value && { kind: "Import", path: value.value, span: this.span(keyword, path) };
  }

  definition(
    role: IToken,
    nameToken: IToken,
    params: Maybe<A.HyperParam>[],
    members: Maybe<A.Member>[],
    close: IToken,
  ): Maybe<A.Definition> {
    const name = this.identifier(nameToken);
    if (!name || !real(role)) return undefined;
    const kept = { params: defined(params), members: defined(members) };
    return {
      kind: "Definition",
      role: role.image === "model" ? "model" : "layer",
      name,
      ...kept,
      // Params and members count too: recovery may have invented the closing brace.
      span: this.span(role, close, ...ends(kept.params), ...ends(kept.members)),
    };
  }

  param(
    nameToken: IToken,
    type: IToken,
    equals: IToken | undefined,
    value: Maybe<A.Expr>,
  ): Maybe<A.HyperParam> {
    const name = this.identifier(nameToken);
    if (!name || !real(type) || (equals && !value)) return undefined;
    const typeSpan = this.positions.token(type);
    return {
      kind: "HyperParam",
      name,
      type: type.image as A.HyperType,
      typeSpan,
      ...(value && { default: value }),
      span: this.span(name.span, typeSpan, value?.span),
    };
  }

  assign<K extends "Binding" | "Assign">(kind: K, nameToken: IToken, value: Maybe<A.Expr>) {
    const name = this.identifier(nameToken);
    if (!name || !value) return undefined;
    return { kind, name, value, span: this.span(name.span, value.span) };
  }

  requirement(
    keyword: IToken,
    condition: Maybe<A.Expr>,
    comma: IToken | undefined,
    messageToken: IToken | undefined,
  ): Maybe<A.Requirement> {
    const message = messageToken && this.string(messageToken);
    if (!condition || (comma && !message)) return undefined;
    return {
      kind: "Requirement",
      condition,
      ...(message && { message }),
      span: this.span(keyword, condition.span, message?.span),
    };
  }

  forward(
    keyword: IToken,
    inputs: Maybe<A.TensorDecl>[],
    outputs: Maybe<A.TensorDecl>[] | undefined,
    body: Maybe<A.Statement>[],
    close: IToken,
  ): Maybe<A.Forward> {
    if (!outputs || outputs.length === 0 || !complete(outputs)) return undefined;
    const statements = defined(body);
    return {
      kind: "Forward",
      inputs: defined(inputs),
      outputs,
      body: statements,
      span: this.span(keyword, close, ...ends(outputs), ...ends(statements)),
    };
  }

  /** `-> f32[T, d]`: the single output is named `y`, and the name points at the type. */
  unnamedOutput(type: Maybe<A.TensorTypeExpr>): Maybe<A.TensorDecl> {
    if (!type) return undefined;
    const name: A.Identifier = { kind: "Identifier", name: "y", span: type.span };
    return { kind: "TensorDecl", name, type, span: type.span };
  }

  tensorDecl(nameToken: IToken, type: Maybe<A.TensorTypeExpr>): Maybe<A.TensorDecl> {
    const name = this.identifier(nameToken);
    if (!name || !type) return undefined;
    return { kind: "TensorDecl", name, type, span: this.span(name.span, type.span) };
  }

  tensorType(dtype: IToken, dims: Maybe<A.Expr>[], close: IToken): Maybe<A.TensorTypeExpr> {
    if (!real(dtype) || !complete(dims)) return undefined;
    return {
      kind: "TensorType",
      dtype: dtype.image as A.DTypeName,
      dims,
      span: this.span(dtype, close, ...ends(dims)),
    };
  }

  returnStatement(keyword: IToken, values: Maybe<A.Expr>[]): Maybe<A.Return> {
    if (!complete(values)) return undefined;
    return { kind: "Return", values, span: this.span(keyword, ...ends(values)) };
  }

  // ---- expressions ----

  binary(operands: Maybe<A.Expr>[], operators: IToken[]): Maybe<A.Expr> {
    if (!complete(operands) || operands.length !== operators.length + 1) return undefined;
    if (operators.length > MAX_CHAIN) return this.tooLong(operands[0], operators.length);
    // Shunting-yard: iterative, so a long chain `1 + 1 + ... + 1` never recurses.
    const values: A.Expr[] = [operands[0]];
    const ops: A.BinaryOp[] = [];
    const reduce = () => {
      const right = values.pop()!;
      const left = values.pop()!;
      const op = ops.pop()!;
      values.push({ kind: "Binary", op, left, right, span: this.span(left.span, right.span) });
    };
    operators.forEach((token, i) => {
      const op = token.image as A.BinaryOp;
      while (ops.length > 0 && precedence[ops[ops.length - 1]] >= precedence[op]) reduce();
      ops.push(op);
      values.push(operands[i + 1]);
    });
    while (ops.length > 0) reduce();
    return values[0];
  }

  /**
   * Applies prefix operators after the suffixes: `-a.b(c)` is `-(a.b(c))`. Past MAX_CHAIN
   * suffixes the parser stops building them; `atom` is where the error then points.
   */
  prefixed(prefixes: IToken[], atom: Maybe<A.Expr>, operand: Maybe<A.Expr>, suffixes: number) {
    const chain = prefixes.length + suffixes;
    if (atom && chain > MAX_CHAIN) return this.tooLong(atom, chain);
    if (!operand) return undefined;
    let expr = operand;
    for (let i = prefixes.length - 1; i >= 0; i--) {
      const op = prefixes[i];
      expr = {
        kind: "Unary",
        op: op.image as A.UnaryOp,
        operand: expr,
        span: this.span(op, expr.span),
      };
    }
    return expr;
  }

  /** `( e )` has no node of its own: the inner expression's span grows to cover the parentheses. */
  parenthesized(open: IToken, inner: Maybe<A.Expr>, close: IToken): Maybe<A.Expr> {
    return inner && { ...inner, span: this.span(open, inner.span, close) };
  }

  call(callee: Maybe<A.Expr>, args: Maybe<A.Argument>[], close: IToken): Maybe<A.Call> {
    if (!callee || !complete(args)) return undefined;
    // A `)` invented by recovery is simply left out of the span.
    const span = this.span(callee.span, close, ...ends(args));
    return { kind: "Call", callee, args, span };
  }

  fieldAccess(object: Maybe<A.Expr>, propertyToken: IToken): Maybe<A.FieldAccess> {
    const property = this.identifier(propertyToken);
    if (!object || !property) return undefined;
    return { kind: "FieldAccess", object, property, span: this.span(object.span, property.span) };
  }

  argument(nameToken: IToken | undefined, value: Maybe<A.Expr>): Maybe<A.Argument> {
    const name = nameToken && this.identifier(nameToken);
    if (!value || (nameToken && !name)) return undefined;
    if (!name) return { kind: "Argument", value, span: value.span };
    return { kind: "Argument", name, value, span: this.span(name.span, value.span) };
  }

  conditional(
    keyword: IToken,
    condition: Maybe<A.Expr>,
    then: Maybe<A.Expr>,
    otherwise: Maybe<A.Expr>,
  ): Maybe<A.Conditional> {
    if (!condition || !then || !otherwise) return undefined;
    const span = this.span(keyword, otherwise.span);
    return { kind: "Conditional", condition, then, otherwise, span };
  }

  repeat(
    keyword: IToken,
    count: Maybe<A.Expr>,
    as: IToken | undefined,
    indexToken: IToken | undefined,
    body: Maybe<A.Expr>,
    close: IToken,
  ): Maybe<A.Repeat> {
    const index = indexToken && this.identifier(indexToken);
    if (!count || !body || (as && !index)) return undefined;
    const span = this.span(keyword, body.span, close);
    return { kind: "Repeat", count, ...(index && { index }), body, span };
  }

  literal(t: IToken): Maybe<A.Expr> {
    if (!real(t)) return undefined;
    if (tokenMatcher(t, T.StringLit)) return this.string(t);
    const span = this.positions.token(t);
    if (tokenMatcher(t, T.True) || tokenMatcher(t, T.False)) {
      return { kind: "Bool", value: t.image === "true", span };
    }
    const value = Number(t.image);
    if (tokenMatcher(t, T.FloatLit)) {
      if (!Number.isFinite(value)) this.error(span, `float literal out of range: ${clip(t.image)}`);
      return { kind: "Float", value, text: t.image, span };
    }
    // Integers past 2^53 would silently lose digits as JS numbers.
    if (!Number.isSafeInteger(value)) {
      this.error(span, `integer literal too large: ${clip(t.image)} (limit 2^53 - 1)`);
    }
    return { kind: "Int", value, text: t.image, span };
  }

  identifier(t: IToken): Maybe<A.Identifier> {
    return real(t)
      ? { kind: "Identifier", name: t.image, span: this.positions.token(t) }
      : undefined;
  }

  /** Decodes a string token; a missing closing quote was reported by index.ts. */
  private string(t: IToken): Maybe<A.StringLiteral> {
    if (!real(t)) return undefined;
    const span = this.positions.token(t);
    const text = t.image;
    let value = "";
    for (let i = 1; i < text.length; i++) {
      const c = text[i];
      if (c === '"') break; // the closing quote
      if (c !== "\\") {
        value += c;
        continue;
      }
      const e = text[++i];
      if (escapes[e] === undefined) this.error(span, `unknown escape '\\${e}' in string`);
      value += escapes[e] ?? e;
    }
    return { kind: "String", value, span };
  }

  private tooLong(at: A.Expr, count: number): undefined {
    this.error(at.span, `expression too long (${count} operators, limit ${MAX_CHAIN})`);
    return undefined;
  }

  private error(span: A.Span, message: string): void {
    this.diagnostics.push({ severity: "error", message, span });
  }

  /** From the earliest to the latest of `parts`; missing and invented tokens are skipped. */
  private span(...parts: SpanPart[]): A.Span {
    let start = Infinity;
    let end = -Infinity;
    let whole: A.Span | undefined; // a part that covers everything is reused, saving memory
    for (const part of parts) {
      if (!part || ("image" in part && !real(part))) continue;
      const isToken = "image" in part;
      const from = part.startOffset;
      const to = isToken ? part.startOffset + part.image.length : part.endOffset;
      if (from <= start && to >= end) whole = isToken ? undefined : part;
      else if (from < start || to > end) whole = undefined;
      start = Math.min(start, from);
      end = Math.max(end, to);
    }
    if (start > end) return fileSpan(this.positions.file); // unreachable: callers pass a part
    return whole ?? this.positions.span(start, end);
  }
}
