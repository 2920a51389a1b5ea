// The source editor: CodeMirror 6 with the .moe language (highlighting, bracket matching, folding,
// completion), lines wrapped so long model signatures stay visible, moec's diagnostics as lint
// markers, and a hover that asks the page what is known at a position (shapes, parameters, FLOPs).
import { autocompletion, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, foldGutter, foldKeymap, indentOnInput } from "@codemirror/language";
import { type Diagnostic as LintDiagnostic, lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  hoverTooltip,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import type { Severity } from "../../../grammar/diagnostics.js";
import type { HoverInfo } from "./hover.js";
import { type Signature, moeCompletions, moeSupport } from "./moeLanguage.js";

export interface LineMarker {
  readonly line: number;
  /** 1-based columns of the marked span (end exclusive); to the line's end when absent. */
  readonly column: number;
  readonly endLine?: number;
  readonly endColumn?: number;
  readonly severity: Severity;
  readonly message: string;
}

/** Answers a hover at a 1-based line and column over `word`. */
export type HoverSource = (line: number, column: number, word: string) => HoverInfo | undefined;

export class Editor {
  readonly view: EditorView;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #silent = false;

  /** `onChange` runs `debounceMs` after the user stops typing. */
  constructor(
    root: HTMLElement,
    private readonly onChange: (text: string) => void,
    hover: HoverSource,
    /** Layers and models defined outside the edited file (its imports), for completion. */
    visible: () => readonly Signature[],
    private readonly debounceMs = 250,
  ) {
    root.classList.add("editor");
    this.view = new EditorView({
      parent: root,
      state: EditorState.create({
        doc: "",
        extensions: [
          lineNumbers(),
          foldGutter(),
          lintGutter(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          drawSelection(),
          history(),
          indentOnInput(),
          bracketMatching(),
          closeBrackets(),
          autocompletion({ override: [moeCompletions(visible)], icons: false }),
          moeSupport(),
          EditorView.lineWrapping,
          EditorState.tabSize.of(2),
          EditorView.contentAttributes.of({
            "aria-label": ".moe source",
            spellcheck: "false",
            autocapitalize: "off",
          }),
          hoverTooltip((view, pos) => {
            const word = view.state.wordAt(pos);
            if (!word) return null;
            const line = view.state.doc.lineAt(pos);
            const info = hover(
              line.number,
              pos - line.from + 1,
              view.state.sliceDoc(word.from, word.to),
            );
            if (!info) return null;
            return {
              pos: word.from,
              end: word.to,
              above: true,
              create: () => ({ dom: hoverDom(info) }),
            };
          }),
          keymap.of([
            ...closeBracketsKeymap,
            ...defaultKeymap,
            ...historyKeymap,
            ...foldKeymap,
            indentWithTab,
          ]),
          EditorView.updateListener.of((update) => {
            if (!update.docChanged || this.#silent) return;
            clearTimeout(this.#timer);
            this.#timer = setTimeout(() => this.onChange(this.value), this.debounceMs);
          }),
        ],
      }),
    });
  }

  get value(): string {
    return this.view.state.doc.toString();
  }

  /** Replaces the text (no change event) and clears the markers. */
  set value(text: string) {
    // A pending change event belongs to the text being replaced.
    clearTimeout(this.#timer);
    this.#silent = true;
    try {
      this.view.dispatch({
        changes: { from: 0, to: this.view.state.doc.length, insert: text },
        selection: { anchor: 0 },
        scrollIntoView: true,
      });
      this.view.dispatch(setDiagnostics(this.view.state, []));
    } finally {
      this.#silent = false;
    }
  }

  /** Shows moec's diagnostics as lint markers (underline, gutter marker, hover message). */
  setMarkers(markers: readonly LineMarker[]): void {
    const doc = this.view.state.doc;
    const offset = (line: number, column: number) => {
      // A problem at the end of the file (say, a missing '}') shows on the last line.
      const l = doc.line(Math.max(1, Math.min(line, doc.lines)));
      return Math.min(l.to, l.from + Math.max(0, column - 1));
    };
    const diagnostics: LintDiagnostic[] = markers.map((m) => {
      const from = offset(m.line, m.column);
      const lineEnd = doc.line(Math.max(1, Math.min(m.line, doc.lines))).to;
      let to = m.endColumn === undefined ? lineEnd : offset(m.endLine ?? m.line, m.endColumn);
      if (to <= from) to = Math.min(doc.length, from + 1);
      return {
        from,
        to,
        severity: m.severity === "note" ? "info" : m.severity,
        message: m.message,
      };
    });
    this.view.dispatch(setDiagnostics(this.view.state, diagnostics));
  }

  /** Puts the caret at a line and column and scrolls it into view. */
  goToLine(line: number, column = 1): void {
    const doc = this.view.state.doc;
    const l = doc.line(Math.max(1, Math.min(line, doc.lines)));
    const pos = Math.min(l.to, l.from + Math.max(0, column - 1));
    this.view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
    this.view.focus();
  }
}

function hoverDom(info: HoverInfo): HTMLElement {
  const dom = document.createElement("div");
  dom.className = "moe-hover";
  const title = document.createElement("div");
  title.className = "moe-hover-title";
  title.textContent = info.title;
  dom.append(title);
  for (const text of info.lines) {
    const line = document.createElement("div");
    line.textContent = text;
    dom.append(line);
  }
  return dom;
}
