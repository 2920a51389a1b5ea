// Syntax errors: messages, locations, several per file, and what recovery keeps.
import { describe, expect, it } from "vitest";
import type { Binding, Forward, SourceFile } from "../../grammar/ast.js";
import { formatDiagnostic } from "../../grammar/diagnostics.js";
import { parse } from "../../grammar/index.js";
import { MAX_NESTING, MAX_SYNTAX_ERRORS } from "../../grammar/parser.js";
import { MAX_CHAIN } from "../../grammar/toAst.js";

/** Diagnostics as `line:column-endLine:endColumn message`. */
function errors(text: string): string[] {
  return parse(text, "t.moe").diagnostics.map(
    (d) => `${d.span.line}:${d.span.column}-${d.span.endLine}:${d.span.endColumn} ${d.message}`,
  );
}

function names(ast: SourceFile): string[] {
  return ast.definitions.map(
    (d) => `${d.name.name}[${d.members.map((m) => (m.kind === "Binding" ? m.name.name : m.kind))}]`,
  );
}

describe("messages and locations", () => {
  it("names the expected token and the one found", () => {
    expect(errors("layer A(dim: int { x = 1 }")).toEqual(["1:18-1:19 expected ')' but found '{'"]);
    expect(errors("layer A() { forward(x: f32[T]) f32[T] {} }")).toEqual([
      "1:32-1:35 expected '->' but found 'f32'",
    ]);
    expect(errors("import std")).toEqual(["1:8-1:11 expected a string but found 'std'"]);
  });

  it("reports the end of the file at the end of the file", () => {
    expect(errors("layer A() {\n  x = 1\n")).toEqual([
      "3:1-3:1 unexpected end of file, expected a member (name = ..., 'require' or 'forward') or '}'",
    ]);
    expect(errors("layer A() { x = f(1,")).toEqual([
      "1:21-1:21 unexpected end of file, expected ')'",
    ]);
  });

  it("says what may come where a list stops", () => {
    expect(errors("layer A() { 123 }")).toEqual([
      "1:13-1:16 expected a member (name = ..., 'require' or 'forward') or '}' but found '123'",
    ]);
    expect(errors("layer A() { forward() -> f32[] { 1 } }")).toEqual([
      "1:34-1:35 expected a statement (name = ... or 'return') or '}' but found '1'",
    ]);
    expect(errors("} layer A() {}")).toEqual([
      "1:1-1:2 expected 'import', 'layer' or 'model' but found '}'",
    ]);
  });

  it("describes the missing piece in words", () => {
    expect(errors("layer A() { x = * 2 }")).toEqual([
      "1:17-1:18 expected an expression but found '*'",
    ]);
    expect(errors("layer A(n: integer) {}")).toEqual([
      "1:12-1:19 expected a type (int, float, bool, string or act) but found 'integer'",
    ]);
    expect(errors("layer A() { forward() -> { } }")).toEqual([
      "1:26-1:27 expected an output type but found '{'",
    ]);
    expect(errors("layer A() { x = a.(b) }")[0]).toBe(
      "1:19-1:20 expected a field name or index but found '('",
    );
  });

  it("rejects a hard keyword as a name", () => {
    expect(errors("layer A() { repeat = 1 }")[0]).toMatch(
      /^1:13-1:19 expected .* but found 'repeat'$/,
    );
  });

  it("formats with file, line, column and a caret", () => {
    const text = "layer A() {\n  x = Linear(dim dim)\n}";
    const [d] = parse(text, "t.moe").diagnostics;
    expect(formatDiagnostic(d!, new Map([["t.moe", text]]))).toBe(
      [
        "t.moe:2:18: error: expected ')' but found 'dim'",
        "   2 |   x = Linear(dim dim)",
        "     |                  ^~~",
      ].join("\n"),
    );
  });
});

describe("lexical errors", () => {
  it("reports unexpected characters, one per run", () => {
    expect(errors("layer A() { x = $ 1 }")).toEqual(["1:17-1:18 unexpected character '$'"]);
    expect(errors("layer A() { x = 1 @#§ }")).toEqual(["1:19-1:22 unexpected characters '@#§'"]);
  });

  it("shows invisible characters as escapes, and a lone '&' or '|' as unexpected", () => {
    expect(errors("layer A() {\u00a0\u0007}")).toEqual([
      "1:12-1:14 unexpected characters '\\u00a0\\u0007'",
    ]);
    expect(errors("layer A() { x = a & b | c }")).toEqual([
      "1:19-1:20 unexpected character '&'",
      "1:23-1:24 unexpected character '|'",
      "1:25-1:26 expected '=' but found 'c'", // the parser sees `x = a b c`
    ]);
  });

  it("reports an unterminated string once and goes on", () => {
    expect(errors('layer A() {\n  x = "abc\n  y = 1\n}')).toEqual(["2:7-2:11 unterminated string"]);
  });

  it("reports an unterminated block comment", () => {
    expect(errors("layer A() {} /* never closed\n layer B() {}")).toEqual([
      "1:14-2:14 unterminated block comment",
    ]);
    expect(errors("/*/")).toEqual(["1:1-1:4 unterminated block comment"]);
  });

  it("reports unknown escapes", () => {
    expect(errors('layer A() { x = "a\\qb" }')).toEqual([
      "1:17-1:23 unknown escape '\\q' in string",
    ]);
  });

  it("reports integers past 2^53 and floats past the double range", () => {
    expect(errors("layer A() { x = 9007199254740991 y = 9007199254740993 z = 1e400 }")).toEqual([
      "1:38-1:54 integer literal too large: 9007199254740993 (limit 2^53 - 1)",
      "1:59-1:64 float literal out of range: 1e400",
    ]);
  });
});

describe("recovery", () => {
  const SEVERAL = `layer A(dim: int) {
  proj = Linear(dim dim)
  keep = 1
  forward(x: f32[T, dim]) -> f32[T, dim] {
    y = proj(x) +
    return y
  }
}

model B(dim: int = 8) {
  b = A(dim))
  c = $ 2
  d = 3
}
`;

  it("reports several errors in one file", () => {
    expect(errors(SEVERAL)).toEqual([
      "2:21-2:24 expected ')' but found 'dim'",
      "2:24-2:25 expected '=' but found ')'",
      "6:5-6:11 expected an expression but found 'return'",
      "11:13-11:14 expected a member (name = ..., 'require' or 'forward') or '}' but found ')'",
      "12:7-12:8 unexpected character '$'",
    ]);
  });

  it("keeps what parsed well, drops what was incomplete", () => {
    const { ast } = parse(SEVERAL, "t.moe");
    // `Linear(dim` got an invented ')'; the statement `y = proj(x) +` had no right operand.
    expect(names(ast)).toEqual(["A[proj,keep,Forward]", "B[b,c,d]"]);
    const forward = ast.definitions[0]!.members[2] as Forward;
    expect(forward.body.map((s) => s.kind)).toEqual(["Return"]);
  });

  it("goes on to the next definition after a broken one", () => {
    const { ast, diagnostics } = parse("layer A( {\n}\nlayer B() { x = 1 }", "t.moe");
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(names(ast)).toContain("B[x]");
  });

  it("reports one error per location, in source order", () => {
    const { diagnostics } = parse("layer ( ) { = = } model { ( } layer A() { x = ) }", "t.moe");
    const offsets = diagnostics.map((d) => d.span.startOffset);
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });

  it("leaves invented tokens out of spans", () => {
    const { ast } = parse("layer A() {\n  x = f(a, b\n  y = 2\n}", "t.moe");
    const x = ast.definitions[0]!.members[0] as Binding;
    expect(x.value).toMatchObject({ kind: "Call", span: { line: 2, column: 7, endColumn: 13 } });
  });

  it(`gives up after ${MAX_SYNTAX_ERRORS} errors`, () => {
    const { diagnostics } = parse("layer A() {" + " x = = 1".repeat(1000) + " }", "t.moe");
    expect(diagnostics).toHaveLength(MAX_SYNTAX_ERRORS + 1);
    expect(diagnostics.at(-1)!.message).toBe("too many syntax errors, giving up");
  });

  it(`caps lexical errors at ${MAX_SYNTAX_ERRORS}`, () => {
    const { diagnostics } = parse("$ a ".repeat(500), "t.moe");
    expect(diagnostics.filter((d) => d.message.startsWith("unexpected character"))).toHaveLength(
      MAX_SYNTAX_ERRORS,
    );
    expect(diagnostics.map((d) => d.message)).toContain("400 more lexical errors not shown");
  });
});

describe("limits", () => {
  const wrap = (e: string) => `layer A() { x = ${e} }`;

  it(`accepts ${MAX_NESTING - 1} nested parentheses and calls`, () => {
    const n = MAX_NESTING - 2; // plus the definition's braces
    expect(errors(wrap("(".repeat(n) + "1" + ")".repeat(n)))).toEqual([]);
    expect(errors(wrap("f(".repeat(n) + "1" + ")".repeat(n)))).toEqual([]);
  });

  it("rejects deeper brackets before parsing, with one diagnostic", () => {
    const n = MAX_NESTING;
    expect(errors(wrap("(".repeat(n) + "1" + ")".repeat(n)))).toEqual([
      "1:216-1:217 expressions nested too deeply",
    ]);
    expect(errors("[".repeat(100_000))).toHaveLength(1);
  });

  it("rejects deep if/else and repeat chains while parsing", () => {
    expect(errors(wrap("if a then b else ".repeat(MAX_NESTING - 1) + "c"))).toEqual([]);
    const deep = errors(wrap("if a then b else ".repeat(MAX_NESTING) + "c"));
    expect(deep).toHaveLength(1);
    expect(deep[0]).toMatch(/expressions nested too deeply$/);
    expect(
      errors(wrap("repeat 2 { ".repeat(MAX_NESTING) + "B()" + " }".repeat(MAX_NESTING))),
    ).toHaveLength(1);
  });

  it(`rejects more than ${MAX_CHAIN} operators, prefixes or suffixes in a row`, () => {
    expect(errors(wrap("1" + " + 1".repeat(MAX_CHAIN)))).toEqual([]);
    expect(errors(wrap("1" + " + 1".repeat(MAX_CHAIN + 1)))).toEqual([
      `1:17-1:18 expression too long (${MAX_CHAIN + 1} operators, limit ${MAX_CHAIN})`,
    ]);
    expect(errors(wrap("-".repeat(MAX_CHAIN + 1) + "a"))).toHaveLength(1);
    expect(errors(wrap("a" + ".b".repeat(MAX_CHAIN + 1)))).toHaveLength(1);
    expect(errors(wrap("f" + "()".repeat(MAX_CHAIN + 1)))).toHaveLength(1);
  });

  it("rejects a file over 5 MB without reading it", () => {
    expect(errors("x".repeat(5 * 1024 * 1024 + 1))).toEqual([
      "1:1-1:1 file too large (5242881 bytes, limit 5 MB)",
    ]);
    // Counted in UTF-8 bytes: 2 million 'é' are 4 MB.
    expect(errors("é".repeat(2_000_000))[0]).toMatch(/unexpected characters/);
    expect(errors("é".repeat(3_000_000))).toEqual([
      "1:1-1:1 file too large (6000000 bytes, limit 5 MB)",
    ]);
  });
});
