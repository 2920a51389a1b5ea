// The parser on valid input: every construct, operator precedence, spans and comments.
import { describe, expect, it } from "vitest";
import type { Binding, Definition, Expr, Forward, SourceFile } from "../../grammar/ast.js";
import { parse, printAst } from "../../grammar/index.js";
import { MoeParser } from "../../grammar/parser.js";
import { createLexer } from "../../grammar/tokens.js";

/** Parses text that must be valid and returns its AST. */
function ok(text: string): SourceFile {
  const { ast, diagnostics } = parse(text, "t.moe");
  expect(diagnostics).toEqual([]);
  return ast;
}

/** The dump of one expression, parsed as the value of a binding. */
function expr(text: string): string {
  const ast = ok(`layer L() {\n  x = ${text}\n}`);
  const dump = printAst(ast).split("\n");
  return dump
    .slice(3, -1)
    .map((line) => line.slice(6))
    .join("\n");
}

function binding(ast: SourceFile, name: string): Expr {
  const members = ast.definitions.flatMap((d) => d.members);
  const found = members.find((m): m is Binding => m.kind === "Binding" && m.name.name === name);
  if (!found) throw new Error(`no binding ${name}`);
  return found.value;
}

const EXAMPLE = `// comment
/* block comment */
import "std/moe.moe"

layer MHMoE(dim: int = 768, heads: int = 4, experts: int = 8, top_k: int = 2,
            ffn: int = 4 * dim, act: act = gelu, renorm: bool = false, capacity: float = 0.0) {
  require dim % heads == 0, "dim must be divisible by heads"
  sub = dim / heads                       // Binding: constant
  head  = Linear(dim, dim)                // Binding: sub-layer instance
  gate  = Router(sub, experts, top_k, renorm = renorm)
  bank  = Experts(experts, sub, ffn, act = act)
  merge = Linear(dim, dim)
  blocks = repeat layers as i { Block(dim, moe = i % 2 == 1) }
  ffn2 = if gated then SwiGLU(dim, ffn) else FFN(dim, ffn)

  forward(x: f32[T, dim]) -> f32[T, dim] {
    s = split(head(x), heads)
    return merge(join(bank(s, gate(s)), heads))
  }
}

model LM(vocab: int = 512) {
  forward(ids: i32[T]) -> (logits: f32[T, vocab], aux: f32[T, 4]) {
    h = blocks.0(x)
    return logits, aux
  }
}
`;

describe("the grammar itself", () => {
  it("passes chevrotain's grammar and token checks (the shared parser and lexer skip them)", () => {
    expect(createLexer({ validate: true }).lexerDefinitionErrors).toEqual([]);
    // Building throws "Parser Definition Errors detected" on any grammar problem.
    expect(() => new MoeParser({ validate: true })).not.toThrow();
  });
});

describe("the design example", () => {
  const ast = ok(EXAMPLE);

  it("has the import, both definitions and all members", () => {
    expect(ast.imports.map((i) => i.path)).toEqual(["std/moe.moe"]);
    expect(ast.definitions.map((d) => `${d.role} ${d.name.name}`)).toEqual([
      "layer MHMoE",
      "model LM",
    ]);
    const [mhmoe] = ast.definitions as [Definition];
    expect(mhmoe.params.map((p) => `${p.name.name}: ${p.type}`)).toEqual([
      "dim: int",
      "heads: int",
      "experts: int",
      "top_k: int",
      "ffn: int",
      "act: act",
      "renorm: bool",
      "capacity: float",
    ]);
    expect(mhmoe.members.map((m) => (m.kind === "Binding" ? m.name.name : m.kind))).toEqual([
      "Requirement",
      "sub",
      "head",
      "gate",
      "bank",
      "merge",
      "blocks",
      "ffn2",
      "Forward",
    ]);
  });

  it("names an unnamed output y, spanning its type", () => {
    const forward = ast.definitions[0]!.members.at(-1) as Forward;
    const [y] = forward.outputs;
    expect(y!.name.name).toBe("y");
    expect(y!.name.span).toEqual(y!.type.span);
    expect(EXAMPLE.slice(y!.span.startOffset, y!.span.endOffset)).toBe("f32[T, dim]");
  });

  it("keeps named outputs in order", () => {
    const forward = ast.definitions[1]!.members[0] as Forward;
    expect(forward.inputs.map((t) => `${t.name.name}: ${t.type.dtype}`)).toEqual(["ids: i32"]);
    expect(forward.outputs.map((t) => t.name.name)).toEqual(["logits", "aux"]);
    expect(forward.body.map((s) => s.kind)).toEqual(["Assign", "Return"]);
  });

  it("keeps every comment with its kind and span", () => {
    expect(ast.comments.map((c) => `${c.kind} ${c.span.line}:${c.span.column} ${c.text}`)).toEqual([
      "line 1:1 // comment",
      "block 2:1 /* block comment */",
      "line 8:43 // Binding: constant",
      "line 9:43 // Binding: sub-layer instance",
    ]);
  });

  it("prints the canonical dump", () => {
    const dump = printAst(ast);
    // One node per line, children indented, spans as @line:col-endCol.
    expect(dump.split("\n").slice(0, 6).join("\n")).toMatchInlineSnapshot(`
      "File @1:1-28:1
        Import "std/moe.moe" @3:1-21
        Definition layer MHMoE @5:1-20:2
          Param dim: int @5:13-27
            Int 768 @5:24-27
          Param heads: int @5:29-43"
    `);
    expect(dump).toContain("    Binding blocks @13:3-63\n      Repeat as i @13:12-63\n");
    expect(dump).toContain(
      "          FieldAccess .0 @24:9-17\n            Identifier blocks @24:9-15\n",
    );
    expect(dump).not.toContain("t.moe"); // no paths: dumps are the same on every machine
  });
});

describe("definitions and members", () => {
  it("parses params without defaults, trailing commas and empty lists", () => {
    const ast = ok(`layer A(a: int, b: float = 1.5, c: string = "s", d: bool,) {}\nmodel B() {}`);
    expect(printAst(ast)).toMatchInlineSnapshot(`
      "File @1:1-2:13
        Definition layer A @1:1-62
          Param a: int @1:9-15
          Param b: float @1:17-31
            Float 1.5 @1:28-31
          Param c: string @1:33-48
            String "s" @1:45-48
          Param d: bool @1:50-57
        Definition model B @2:1-13
      "
    `);
  });

  it("parses require with and without a message", () => {
    const ast = ok(`layer A(n: int) {\n  require n > 0\n  require n < 10, "small"\n}`);
    expect(printAst(ast)).toMatchInlineSnapshot(`
      "File @1:1-4:2
        Definition layer A @1:1-4:2
          Param n: int @1:9-15
          Require @2:3-16
            Binary > @2:11-16
              Identifier n @2:11-12
              Int 0 @2:15-16
          Require @3:3-26
            Binary < @3:11-17
              Identifier n @3:11-12
              Int 10 @3:15-17
            String "small" @3:19-26
      "
    `);
  });

  it("parses forward with several inputs, a named output and a trailing comma", () => {
    const ast = ok(
      `layer A() { forward(a: f32[B, S, d], b: f16[], ) -> out: f32[B * S] { return a } }`,
    );
    expect(printAst(ast)).toMatchInlineSnapshot(`
      "File @1:1-83
        Definition layer A @1:1-83
          Forward @1:13-81
            Input a @1:21-36
              TensorType f32 @1:24-36
                Identifier B @1:28-29
                Identifier S @1:31-32
                Identifier d @1:34-35
            Input b @1:38-46
              TensorType f16 @1:41-46
            Output out @1:53-68
              TensorType f32 @1:58-68
                Binary * @1:62-67
                  Identifier B @1:62-63
                  Identifier S @1:66-67
            Return @1:71-79
              Identifier a @1:78-79
      "
    `);
  });

  it("accepts hyper-parameter type names as ordinary names", () => {
    const ast = ok(`layer A(act: act = gelu) { int = act(float) }`);
    expect(binding(ast, "int")).toMatchObject({ kind: "Call", callee: { name: "act" } });
  });
});

describe("expressions", () => {
  it("parses literals", () => {
    expect(expr(`f(1, 1.5, 1e-6, 2.5e-3, 4E+2, true, false, "a\\"b\\\\c\\n\\t")`))
      .toMatchInlineSnapshot(`
      "Call @2:7-64
        Identifier f @2:7-8
        Arg @2:9-10
          Int 1 @2:9-10
        Arg @2:12-15
          Float 1.5 @2:12-15
        Arg @2:17-21
          Float 1e-6 @2:17-21
        Arg @2:23-29
          Float 2.5e-3 @2:23-29
        Arg @2:31-35
          Float 4E+2 @2:31-35
        Arg @2:37-41
          Bool true @2:37-41
        Arg @2:43-48
          Bool false @2:43-48
        Arg @2:50-63
          String "a\\"b\\\\c\\n\\t" @2:50-63"
    `);
  });

  it("decodes string escapes", () => {
    const value = binding(ok(`layer A() { s = "q\\"b\\\\n\\n\\t" }`), "s");
    expect(value).toMatchObject({ kind: "String", value: 'q"b\\n\n\t' });
  });

  it("keeps integer text and value", () => {
    const value = binding(ok(`layer A() { n = 9007199254740991 }`), "n");
    expect(value).toMatchObject({ kind: "Int", value: 9007199254740991, text: "9007199254740991" });
  });

  it("binds * / % tighter than + -, and those tighter than comparisons and logic", () => {
    expect(expr("a || b && c == d < e + f * g")).toMatchInlineSnapshot(`
      "Binary || @2:7-35
        Identifier a @2:7-8
        Binary && @2:12-35
          Identifier b @2:12-13
          Binary == @2:17-35
            Identifier c @2:17-18
            Binary < @2:22-35
              Identifier d @2:22-23
              Binary + @2:26-35
                Identifier e @2:26-27
                Binary * @2:30-35
                  Identifier f @2:30-31
                  Identifier g @2:34-35"
    `);
  });

  it("associates to the left", () => {
    expect(expr("a - b - c / d / e")).toMatchInlineSnapshot(`
      "Binary - @2:7-24
        Binary - @2:7-12
          Identifier a @2:7-8
          Identifier b @2:11-12
        Binary / @2:15-24
          Binary / @2:15-20
            Identifier c @2:15-16
            Identifier d @2:19-20
          Identifier e @2:23-24"
    `);
  });

  it("applies prefixes after suffixes", () => {
    expect(expr("-a.b(c) * !d")).toMatchInlineSnapshot(`
      "Binary * @2:7-19
        Unary - @2:7-14
          Call @2:8-14
            FieldAccess .b @2:8-11
              Identifier a @2:8-9
            Arg @2:12-13
              Identifier c @2:12-13
        Unary ! @2:17-19
          Identifier d @2:18-19"
    `);
  });

  it("widens a parenthesised expression's span over the parentheses", () => {
    expect(expr("(a + b) * c")).toMatchInlineSnapshot(`
      "Binary * @2:7-18
        Binary + @2:7-14
          Identifier a @2:8-9
          Identifier b @2:12-13
        Identifier c @2:17-18"
    `);
  });

  it("parses calls with named arguments, trailing commas and chained suffixes", () => {
    expect(expr("blocks.0.1.attn(x, scale = 2,)(y)")).toMatchInlineSnapshot(`
      "Call @2:7-40
        Call @2:7-37
          FieldAccess .attn @2:7-22
            FieldAccess .1 @2:7-17
              FieldAccess .0 @2:7-15
                Identifier blocks @2:7-13
          Arg @2:23-24
            Identifier x @2:23-24
          Arg scale @2:26-35
            Int 2 @2:34-35
        Arg @2:38-39
          Identifier y @2:38-39"
    `);
  });

  it("extends if/else as far right as possible, and nests it anywhere", () => {
    expect(expr("1 + if a then b else c + d")).toMatchInlineSnapshot(`
      "Binary + @2:7-33
        Int 1 @2:7-8
        Conditional @2:11-33
          Identifier a @2:14-15
          Identifier b @2:21-22
          Binary + @2:28-33
            Identifier c @2:28-29
            Identifier d @2:32-33"
    `);
  });

  it("parses repeat with and without an index", () => {
    expect(expr("repeat n * 2 { Block(d) }")).toMatchInlineSnapshot(`
      "Repeat @2:7-32
        Binary * @2:14-19
          Identifier n @2:14-15
          Int 2 @2:18-19
        Call @2:22-30
          Identifier Block @2:22-27
          Arg @2:28-29
            Identifier d @2:28-29"
    `);
    expect(expr("repeat n as i { if i == 0 then A() else B() }")).toMatchInlineSnapshot(`
      "Repeat as i @2:7-52
        Identifier n @2:14-15
        Conditional @2:23-50
          Binary == @2:26-32
            Identifier i @2:26-27
            Int 0 @2:31-32
          Call @2:38-41
            Identifier A @2:38-39
          Call @2:47-50
            Identifier B @2:47-48"
    `);
  });

  it("lets a newline before '(' continue a call (newlines are not significant)", () => {
    const ast = ok(`layer A() {\n  x = a\n  (b)\n}`);
    expect(binding(ast, "x").kind).toBe("Call");
  });
});

describe("spans", () => {
  it("are 1-based with exclusive ends and 0-based offsets", () => {
    const text = `layer A() {\n  head = Linear(dim, 2)\n}`;
    const value = binding(ok(text), "head");
    expect(value.span).toEqual({
      file: "t.moe",
      startOffset: 21,
      endOffset: 35,
      line: 2,
      column: 10,
      endLine: 2,
      endColumn: 24,
    });
    expect(text.slice(value.span.startOffset, value.span.endOffset)).toBe("Linear(dim, 2)");
  });

  it("cover several lines, and count \\r\\n and a lone \\r as one line break", () => {
    for (const eol of ["\n", "\r\n", "\r"]) {
      const text = ["layer A() {", "  x = f(1,", "        2)", "}"].join(eol);
      const ast = ok(text);
      const x = binding(ast, "x");
      expect([x.span.line, x.span.column, x.span.endLine, x.span.endColumn]).toEqual([2, 7, 3, 11]);
      expect(ast.definitions[0]!.span).toMatchObject({
        line: 1,
        column: 1,
        endLine: 4,
        endColumn: 2,
      });
      expect(ast.span).toMatchObject({ startOffset: 0, endOffset: text.length, endLine: 4 });
    }
  });

  it("of a block comment run over its lines", () => {
    const ast = ok("/* a\n b */ layer A() {}");
    expect(ast.comments[0]!.span).toMatchObject({ line: 1, column: 1, endLine: 2, endColumn: 6 });
  });

  it("count a tab as one column", () => {
    const ast = ok("layer A() {\n\tx = 1\n}");
    expect(binding(ast, "x").span).toMatchObject({ line: 2, column: 6 });
  });
});
