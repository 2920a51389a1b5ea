// Source positions: spans (line and column) from the lexer's offsets.
import type { IToken } from "chevrotain";
import type * as A from "./ast.js";

/** Turns offsets into spans; the lexer tracks offsets only, which makes it faster and leaner. */
export class Positions {
  private readonly lineStarts = [0];
  private lastLine = 0;

  constructor(
    readonly file: string,
    private readonly text: string,
  ) {
    // The lexer's line breaks: \n, \r\n and a lone \r. Without \r, native indexOf is faster.
    if (!text.includes("\r")) {
      for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) {
        this.lineStarts.push(i + 1);
      }
      return;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) this.lineStarts.push(i + 1);
    }
  }

  /** The span of [start, end) in the text. */
  span(start: number, end: number): A.Span {
    const line = this.lineOf(start);
    const column = start - this.lineStarts[line - 1] + 1;
    const endLine = this.lineOf(end);
    const endColumn = end - this.lineStarts[endLine - 1] + 1;
    return {
      file: this.file,
      startOffset: start,
      endOffset: end,
      line,
      column,
      endLine,
      endColumn,
    };
  }

  token(t: IToken): A.Span {
    return this.span(t.startOffset, t.startOffset + t.image.length);
  }

  /** The whole text. */
  all(): A.Span {
    return this.span(0, this.text.length);
  }

  /** The empty span just past the last character, where "unexpected end of file" points. */
  end(): A.Span {
    return this.span(this.text.length, this.text.length);
  }

  /** The 1-based line of an offset. */
  private lineOf(offset: number): number {
    const starts = this.lineStarts;
    // Spans are made roughly in source order: try the line of the previous lookup first.
    let lo = this.lastLine;
    if (starts[lo] <= offset && (lo + 1 === starts.length || offset < starts[lo + 1])) {
      return lo + 1;
    }
    lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.lastLine = lo;
    return lo + 1;
  }
}
