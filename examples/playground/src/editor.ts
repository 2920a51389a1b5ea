// A plain textarea with a line-number gutter and per-line diagnostic markers: the gutter shows a
// marker (hover: the messages) and a backdrop behind the transparent textarea tints the line.
import type { Severity } from "../../../grammar/diagnostics.js";

export interface LineMarker {
  readonly line: number;
  /** 1-based columns of the underlined span on that line (end exclusive; to the line's end). */
  readonly column: number;
  readonly endColumn?: number;
  readonly severity: Severity;
  readonly message: string;
}

export class Editor {
  readonly textarea: HTMLTextAreaElement;
  readonly #gutter: HTMLElement;
  readonly #backdrop: HTMLElement;
  #markers = new Map<number, LineMarker[]>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `onChange` runs `debounceMs` after the user stops typing. */
  constructor(
    root: HTMLElement,
    private readonly onChange: (text: string) => void,
    private readonly debounceMs = 250,
  ) {
    root.classList.add("editor");
    this.#gutter = document.createElement("div");
    this.#gutter.className = "gutter";
    this.#gutter.setAttribute("aria-hidden", "true");
    const body = document.createElement("div");
    body.className = "editor-body";
    this.#backdrop = document.createElement("div");
    this.#backdrop.className = "backdrop";
    this.#backdrop.setAttribute("aria-hidden", "true");
    this.textarea = document.createElement("textarea");
    this.textarea.id = "source";
    this.textarea.spellcheck = false;
    this.textarea.wrap = "off";
    this.textarea.setAttribute("aria-label", ".moe source");
    this.textarea.setAttribute("autocapitalize", "off");
    this.textarea.setAttribute("autocomplete", "off");
    body.append(this.#backdrop, this.textarea);
    root.append(this.#gutter, body);

    this.textarea.addEventListener("input", () => {
      this.#render();
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.onChange(this.textarea.value), this.debounceMs);
    });
    this.textarea.addEventListener("scroll", () => this.#syncScroll());
    this.textarea.addEventListener("keydown", (e) => {
      // Tab inserts two spaces rather than leaving the editor.
      if (e.key !== "Tab" || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return;
      e.preventDefault();
      this.textarea.setRangeText(
        "  ",
        this.textarea.selectionStart,
        this.textarea.selectionEnd,
        "end",
      );
      this.textarea.dispatchEvent(new Event("input"));
    });
  }

  get value(): string {
    return this.textarea.value;
  }

  /** Replaces the text (no change event) and clears the markers. */
  set value(text: string) {
    // A pending change event belongs to the text being replaced.
    clearTimeout(this.#timer);
    this.textarea.value = text;
    this.#markers.clear();
    this.#render();
    this.textarea.scrollTop = 0;
    this.#syncScroll();
  }

  setMarkers(markers: readonly LineMarker[]): void {
    this.#markers = new Map();
    // A problem at the end of the file (say, a missing '}') shows on the last line.
    const last = this.textarea.value.split("\n").length;
    for (const m of markers) {
      const line = Math.max(1, Math.min(m.line, last));
      const list = this.#markers.get(line) ?? [];
      list.push(m);
      this.#markers.set(line, list);
    }
    this.#render();
  }

  /** Puts the caret at the start of a line and scrolls it into view. */
  goToLine(line: number, column = 1): void {
    const lines = this.textarea.value.split("\n");
    let offset = 0;
    for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i]!.length + 1;
    offset += Math.max(0, column - 1);
    this.textarea.focus();
    this.textarea.setSelectionRange(offset, offset);
    const lineHeight = parseFloat(getComputedStyle(this.textarea).lineHeight) || 18;
    this.textarea.scrollTop = Math.max(0, (line - 5) * lineHeight);
    this.#syncScroll();
  }

  #render(): void {
    const lines = this.textarea.value.split("\n");
    const gutter: HTMLElement[] = [];
    const back: HTMLElement[] = [];
    for (let i = 1; i <= lines.length; i++) {
      const markers = this.#markers.get(i);
      const g = document.createElement("div");
      const b = document.createElement("div");
      g.textContent = String(i);
      // A space keeps empty lines one line high.
      const text = lines[i - 1] || " ";
      if (markers) {
        const severity = markers.some((m) => m.severity === "error")
          ? "error"
          : markers[0]!.severity;
        g.className = `marker ${severity}`;
        g.title = markers.map((m) => `${m.severity}: ${m.message}`).join("\n");
        g.dataset.line = String(i);
        b.className = `line-${severity}`;
        b.append(...underline(text, markers));
      } else {
        b.textContent = text;
      }
      gutter.push(g);
      back.push(b);
    }
    this.#gutter.replaceChildren(...gutter);
    this.#backdrop.replaceChildren(...back);
    this.#syncScroll();
  }

  #syncScroll(): void {
    this.#gutter.scrollTop = this.textarea.scrollTop;
    this.#backdrop.scrollTop = this.textarea.scrollTop;
    this.#backdrop.scrollLeft = this.textarea.scrollLeft;
  }
}

/** The line's text with each marker's span wrapped in a squiggle (overlaps merged left to right). */
function underline(text: string, markers: readonly LineMarker[]): (Node | string)[] {
  const spans = markers
    .map((m) => {
      const from = Math.min(Math.max(0, m.column - 1), Math.max(0, text.length - 1));
      const to = Math.min(text.length, Math.max(from + 1, (m.endColumn ?? text.length + 1) - 1));
      return { from, to, severity: m.severity };
    })
    .sort((a, b) => a.from - b.from);
  const out: (Node | string)[] = [];
  let at = 0;
  for (const s of spans) {
    const from = Math.max(s.from, at);
    if (from >= s.to) continue;
    if (from > at) out.push(text.slice(at, from));
    const mark = document.createElement("span");
    mark.className = `squiggle ${s.severity}`;
    mark.textContent = text.slice(from, s.to);
    out.push(mark);
    at = s.to;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}
