// The front end's entry point: `.moe` text in, AST and diagnostics out; user input never throws.
import { EOF, type ILexingResult, type IToken } from "chevrotain";
import type { SourceFile, Span } from "./ast.js";
import { fileSpan, sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import { MAX_NESTING, MAX_SYNTAX_ERRORS, moeParser, ParseAbort } from "./parser.js";
import { Positions } from "./positions.js";
import { AstBuilder } from "./toAst.js";
import { moeLexer, StringLit, unexpectedCharacters } from "./tokens.js";

export { printAst } from "./printAst.js";

export interface ParseResult {
  readonly ast: SourceFile;
  readonly diagnostics: Diagnostic[];
}

export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** Parses one `.moe` file. Problems, including ones in our own code, come back as diagnostics. */
export function parse(text: string, file: string): ParseResult {
  const result = (diagnostics: Diagnostic[], ast?: SourceFile): ParseResult => ({
    ast: ast ?? emptyFile(file, text),
    diagnostics: sortDiagnostics(diagnostics),
  });
  try {
    // n UTF-16 units are at most 3n UTF-8 bytes, so most files skip the byte count.
    const bytes = text.length * 3 > MAX_FILE_BYTES ? utf8Length(text) : 0;
    if (bytes > MAX_FILE_BYTES) {
      return result([error(fileSpan(file), `file too large (${bytes} bytes, limit 5 MB)`)]);
    }
    const positions = new Positions(file, text);
    const lexed = moeLexer().tokenize(text);
    const diagnostics = lexerDiagnostics(lexed, positions);
    // Cheap check before parsing, so 100,000 '(' never reach the recursive parser.
    const deep = firstTooDeep(lexed.tokens);
    if (deep) {
      return result([
        ...diagnostics,
        error(positions.token(deep), "expressions nested too deeply"),
      ]);
    }
    try {
      const ast = parseTokens(lexed, positions, diagnostics);
      return result(diagnostics, ast);
    } catch (e) {
      if (!(e instanceof ParseAbort)) throw e;
      const span = isReal(e.token) ? positions.token(e.token) : positions.end();
      return result([...diagnostics, ...syntaxErrors(positions, true), error(span, e.message)]);
    }
  } catch (e) {
    // The nesting limits should make stack overflows impossible; this is the last resort.
    const overflow = e instanceof RangeError && /call stack/i.test(e.message);
    const message = overflow
      ? "expressions nested too deeply"
      : `internal error: ${e instanceof Error ? e.message : String(e)}`;
    return result([error(fileSpan(file), message)]);
  }
}

/** Parses the tokens into the AST, adding syntax errors to `diagnostics`. */
function parseTokens(lexed: ILexingResult, positions: Positions, diagnostics: Diagnostic[]) {
  const builder = new AstBuilder(positions);
  const top = moeParser().parseFile(lexed.tokens, builder);
  diagnostics.push(...syntaxErrors(positions), ...builder.diagnostics);
  return builder.sourceFile(top, lexed.groups.comments ?? []);
}

/**
 * The parser's errors, one per location: recovery can report the same place twice. When the
 * parse was `cutShort` by ParseAbort, "not all input parsed" is only noise.
 */
function syntaxErrors(positions: Positions, cutShort = false): Diagnostic[] {
  const seen = new Set<number>();
  const out: Diagnostic[] = [];
  for (const e of moeParser().errors) {
    if (cutShort && e.name === "NotAllInputParsedException") continue;
    const span = isReal(e.token) ? positions.token(e.token) : positions.end();
    if (seen.has(span.startOffset)) continue;
    seen.add(span.startOffset);
    out.push(error(span, e.message));
  }
  return out;
}

/** Unexpected characters, unterminated strings and comments: at most MAX_SYNTAX_ERRORS. */
function lexerDiagnostics(lexed: ILexingResult, positions: Positions): Diagnostic[] {
  const out = lexed.errors.map((e) =>
    error(positions.span(e.offset, e.offset + e.length), e.message),
  );
  for (const t of lexed.groups.unexpected ?? []) {
    out.push(error(positions.token(t), unexpectedCharacters(t.image)));
  }
  // Both tokens match up to the end of the line/file when unclosed, so the parser can go on.
  for (const t of lexed.groups.comments ?? []) {
    if (t.image.startsWith("/*") && (t.image.length < 4 || !t.image.endsWith("*/"))) {
      out.push(error(positions.token(t), "unterminated block comment"));
    }
  }
  for (const t of lexed.tokens) {
    if (t.tokenType === StringLit && !/^"(?:[^"\\]|\\.)*"$/.test(t.image)) {
      out.push(error(positions.token(t), "unterminated string"));
    }
  }
  if (out.length <= MAX_SYNTAX_ERRORS) return out;
  const kept = sortDiagnostics(out).slice(0, MAX_SYNTAX_ERRORS);
  const more = out.length - MAX_SYNTAX_ERRORS;
  return [...kept, error(positions.end(), `${more} more lexical errors not shown`)];
}

/** The first opening bracket nested more than MAX_NESTING deep, if any. */
function firstTooDeep(tokens: readonly IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    const c = t.image;
    if (c === "(" || c === "[" || c === "{") {
      if (++depth > MAX_NESTING) return t;
    } else if (c === ")" || c === "]" || c === "}") {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

function error(span: Span, message: string): Diagnostic {
  return { severity: "error", message, span };
}

function isReal(t: IToken): boolean {
  return t.tokenType !== EOF && !t.isInsertedInRecovery && t.startOffset >= 0;
}

function emptyFile(file: string, text: string): SourceFile {
  let span = fileSpan(file);
  try {
    span = new Positions(file, text).all();
  } catch {
    // keep the one-character span: this runs on the error path and must not throw
  }
  return { kind: "File", path: file, imports: [], definitions: [], comments: [], span };
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).byteLength; // native: 10 MB in ~15 ms
}
