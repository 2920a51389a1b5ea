// Diagnostics: every user-facing problem, with its location and a caret snippet.
import type { Span } from "./ast.js";

export type Severity = "error" | "warning" | "note";

export interface Diagnostic {
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  /** Extra located remarks, e.g. where a conflicting name was first defined. */
  readonly notes?: readonly { readonly message: string; readonly span: Span }[];
}

/** A bag that collects diagnostics; compiler stages report into it instead of throwing. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  error(span: Span, message: string, notes?: Diagnostic["notes"]): void {
    this.items.push({ severity: "error", message, span, notes });
  }

  warning(span: Span, message: string): void {
    this.items.push({ severity: "warning", message, span });
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === "error");
  }

  get errorCount(): number {
    return this.items.filter((d) => d.severity === "error").length;
  }
}

/** Thrown only to abandon a stage after a diagnostic was recorded; never escapes the compiler. */
export class CompileAbort extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map((d) => d.message).join("\n"));
  }
}

/** A span that covers a whole file's first character, for problems without a better place. */
export function fileSpan(file: string): Span {
  return { file, startOffset: 0, endOffset: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

export function joinSpans(a: Span, b: Span): Span {
  return {
    file: a.file,
    startOffset: a.startOffset,
    endOffset: b.endOffset,
    line: a.line,
    column: a.column,
    endLine: b.endLine,
    endColumn: b.endColumn,
  };
}

const MAX_SNIPPET_COLUMNS = 200;

/**
 * Formats `file.moe:12:7: error: message`, then the source line and a caret under the span.
 * `sources` maps file paths to their text; a file without text prints no snippet.
 */
export function formatDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, string>): string {
  // A problem with the command line (`--set`, `--model`) has no line or column to show.
  const where = (span: Span) =>
    span.file === "<command line>" ? span.file : `${span.file}:${span.line}:${span.column}`;
  const out = [`${where(d.span)}: ${d.severity}: ${d.message}`];
  out.push(...snippet(d.span, sources));
  for (const note of d.notes ?? []) {
    out.push(`${where(note.span)}: note: ${note.message}`);
    out.push(...snippet(note.span, sources));
  }
  return out.join("\n");
}

function snippet(span: Span, sources: ReadonlyMap<string, string>): string[] {
  const text = sources.get(span.file);
  if (text === undefined) return [];
  const lineText = lineAt(text, span.line);
  if (lineText === undefined) return [];
  const start = Math.max(0, span.column - 1);
  // Very long lines (minified or generated files) are cut around the caret.
  const from = Math.max(0, Math.min(start - 40, lineText.length - MAX_SNIPPET_COLUMNS));
  const shown = lineText.slice(from, from + MAX_SNIPPET_COLUMNS).replace(/\t/g, " ");
  const width =
    span.endLine === span.line ? Math.max(1, span.endColumn - span.column) : shown.length - start;
  const caretStart = start - from;
  const caretWidth = Math.max(1, Math.min(width, shown.length - caretStart));
  const gutter = String(span.line).padStart(4);
  return [
    `${gutter} | ${shown}`,
    `${" ".repeat(gutter.length)} | ${" ".repeat(caretStart)}^${"~".repeat(caretWidth - 1)}`,
  ];
}

function lineAt(text: string, line: number): string | undefined {
  let start = 0;
  for (let current = 1; current < line; current++) {
    const next = text.indexOf("\n", start);
    if (next < 0) return undefined;
    start = next + 1;
  }
  const end = text.indexOf("\n", start);
  return text.slice(start, end < 0 ? text.length : end).replace(/\r$/, "");
}

export function sortDiagnostics(items: readonly Diagnostic[]): Diagnostic[] {
  return [...items].sort(
    (a, b) =>
      a.span.file.localeCompare(b.span.file) ||
      a.span.startOffset - b.span.startOffset ||
      a.message.localeCompare(b.message),
  );
}
