// Moving diagnostics to the user's call site: an error found inside library code is reported at
// the entry-file call that led there, following hyper-parameters back to the arguments written.
import type { Span } from "../../grammar/ast.js";
import type { Diagnostic } from "../../grammar/diagnostics.js";
import { argSpanOf } from "./args.js";
import type { Elaborator, Site } from "./context.js";

/** Where command-line problems are reported: they have no source line. */
export const COMMAND_LINE: Span = {
  file: "<command line>",
  startOffset: 0,
  endOffset: 0,
  line: 1,
  column: 1,
  endLine: 1,
  endColumn: 1,
};

/**
 * Reports an error whose cause may lie in the arguments of a call: range checks of built-ins,
 * `repeat` counts, arithmetic, shapes, requirements. Found inside a file other than the entry
 * file (the library), it is reported at the entry-file call that led there, with a note at the
 * library line; a library argument that merely passes on a hyper-parameter is followed back to
 * the argument the user wrote.
 */
export function report(
  el: Elaborator,
  span: Span,
  message: string,
  notes: Diagnostic["notes"] = [],
): void {
  const moved = relocate(el, span);
  if (!moved) {
    el.bag.error(span, message, notes.length > 0 ? notes : undefined);
    return;
  }
  el.bag.error(moved.span, message, [{ message: moved.note, span }, ...notes]);
}

export function relocate(el: Elaborator, span: Span): { span: Span; note: string } | undefined {
  const entry = el.program.entry.path;
  const sites = el.sites;
  if (span.file === entry || span.file === COMMAND_LINE.file) return undefined;
  if (!sites.some((s) => s.span.file === entry)) return undefined;
  // The innermost call whose definition's code holds the span.
  let level = sites.length - 1;
  while (level > 0 && !contains(sites[level]!.def.span, span)) level--;
  const where = sites[level]!;
  let at = span;
  for (let i = level; i >= 0 && at.file !== entry; i--) {
    at = passedArgument(el, at, sites[i]!) ?? sites[i]!.span;
  }
  if (at.file !== entry) return undefined;
  return {
    span: at,
    note: `found inside '${where.def.name.name}'${where.path ? ` at '${where.path}'` : ""}`,
  };
}

/** When `span` is a bare use of a hyper-parameter of `site`'s definition: the argument for it. */
export function passedArgument(el: Elaborator, span: Span, site: Site): Span | undefined {
  if (!site.args) return undefined;
  const text = el.program.texts.get(span.file)?.slice(span.startOffset, span.endOffset);
  if (!text || !site.def.params.some((p) => p.name.name === text)) return undefined;
  return argSpanOf(site.args, site.def.params, text);
}

export function contains(outer: Span, inner: Span): boolean {
  return (
    outer.file === inner.file &&
    outer.startOffset <= inner.startOffset &&
    inner.endOffset <= outer.endOffset
  );
}
