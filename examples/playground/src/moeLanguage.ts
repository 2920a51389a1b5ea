// The .moe language for CodeMirror: highlighting (a stream tokenizer over the grammar's keywords),
// folding of `{ }` blocks, and completion of built-in layers, their arguments and the built-in
// functions. Names and parameters come from the compiler's own tables, never a copy.
import {
  type Completion,
  type CompletionContext,
  type CompletionResult,
} from "@codemirror/autocomplete";
import {
  HighlightStyle,
  StreamLanguage,
  type StringStream,
  foldService,
  syntaxHighlighting,
} from "@codemirror/language";
import type { EditorState, Extension } from "@codemirror/state";
import { tags as t } from "@lezer/highlight";
import { type Args, BUILTIN_LAYERS, type BuiltinLayer } from "../../../compiler/builtins.js";
import { ACTIVATIONS } from "../../../compiler/ir/ops.js";

const KEYWORDS = new Set([
  "import",
  "layer",
  "model",
  "forward",
  "return",
  "repeat",
  "as",
  "require",
  "if",
  "then",
  "else",
]);
const TYPES = new Set(["int", "float", "bool", "string", "act", "f32", "f16", "i32"]);
const ATOMS = new Set(["true", "false"]);
const FUNCTIONS = new Set<string>(["split", "join", ...ACTIVATIONS]);

interface ModeState {
  inComment: boolean;
}

const moeMode = {
  name: "moe",
  startState: (): ModeState => ({ inComment: false }),
  copyState: (s: ModeState): ModeState => ({ ...s }),
  token(stream: StringStream, state: ModeState): string | null {
    if (state.inComment) {
      if (stream.skipTo("*/")) {
        stream.match("*/");
        state.inComment = false;
      } else stream.skipToEnd();
      return "blockComment";
    }
    if (stream.eatSpace()) return null;
    if (stream.match("//")) {
      stream.skipToEnd();
      return "lineComment";
    }
    if (stream.match("/*")) {
      state.inComment = true;
      return "blockComment";
    }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return "string";
    if (stream.match(/^(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/)) return "number";
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/) as RegExpMatchArray | null;
    if (word) {
      const w = word[0];
      if (KEYWORDS.has(w)) return "keyword";
      if (TYPES.has(w)) return "typeName";
      if (ATOMS.has(w)) return "bool";
      if (BUILTIN_LAYERS.has(w)) return "className";
      if (FUNCTIONS.has(w)) return "function";
      // A user layer or model: capitalised by convention.
      if (/^[A-Z]/.test(w)) return "className";
      // Named argument (`act = gelu`) or binding (`gate = Router(...)`).
      if (stream.match(/^\s*=(?!=)/, false)) return "propertyName";
      return "variableName";
    }
    if (stream.match("->")) return "operator";
    if (stream.match(/^[{}()[\]]/)) return "bracket";
    if (stream.match(/^(?:==|!=|<=|>=|&&|\|\||[-+*/%<>!=])/)) return "operator";
    stream.next();
    return null;
  },
  languageData: {
    commentTokens: { line: "//", block: { open: "/*", close: "*/" } },
    closeBrackets: { brackets: ["(", "[", "{", '"'] },
  },
};

export const moeLanguage = StreamLanguage.define(moeMode);

const highlight = HighlightStyle.define([
  { tag: t.keyword, color: "#8250df", fontWeight: "600" },
  { tag: t.typeName, color: "#0550ae" },
  { tag: t.className, color: "#953800", fontWeight: "600" },
  { tag: t.function(t.variableName), color: "#6639ba" },
  { tag: [t.number, t.bool], color: "#0a7f6f" },
  { tag: t.string, color: "#0a3069" },
  { tag: [t.lineComment, t.blockComment], color: "#6e7781", fontStyle: "italic" },
  { tag: t.propertyName, color: "#116329" },
  { tag: t.variableName, color: "#1f2328" },
  { tag: t.operator, color: "#cf222e" },
]);

/** Folds a `{ ... }` block that opens on a line and closes on a later one. */
const foldBraces = foldService.of((state: EditorState, lineStart: number, lineEnd: number) => {
  const text = state.doc.sliceString(lineStart, lineEnd);
  const open = text.lastIndexOf("{");
  if (open < 0 || text.indexOf("}", open) >= 0) return null;
  let depth = 0;
  const doc = state.doc.toString();
  for (let i = lineStart + open; i < doc.length; i++) {
    const c = doc[i];
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) {
      const closeLine = state.doc.lineAt(i);
      if (closeLine.number === state.doc.lineAt(lineStart).number) return null;
      return { from: lineStart + open + 1, to: i };
    }
  }
  return null;
});

// ---- completion --------------------------------------------------------------------------------

/** A parameter's default as text, when it does not depend on other arguments. */
function defaultText(layer: BuiltinLayer, name: string): string | undefined {
  const param = layer.params.find((p) => p.name === name);
  if (!param?.default) return undefined;
  const refuse = () => {
    throw new Error("depends on other arguments");
  };
  const stub: Args = { int: refuse, float: refuse, bool: refuse, string: refuse, act: refuse };
  try {
    const v = param.default(stub);
    return "value" in v ? JSON.stringify(v.value) : undefined;
  } catch {
    return "derived";
  }
}

/** `Router(in_features: int, experts: int, top_k: int = 1, ...)`: the layer's signature. */
export function layerSignature(layer: BuiltinLayer): string {
  const params = layer.params.map((p) => {
    const d = defaultText(layer, p.name);
    return `${p.name}: ${p.type}${d === undefined ? "" : d === "derived" ? " = …" : ` = ${d}`}`;
  });
  return `${layer.name}(${params.join(", ")})`;
}

/** A callable's parameters as completion shows them: `ffn: int = 4 * dim`. */
export interface Signature {
  readonly name: string;
  readonly kind: "built-in layer" | "layer" | "model";
  readonly params: readonly { name: string; type: string; default?: string }[];
}

const BUILTIN_SIGNATURES: readonly Signature[] = [...BUILTIN_LAYERS.values()].map((layer) => ({
  name: layer.name,
  kind: "built-in layer",
  params: layer.params.map((p) => {
    const d = defaultText(layer, p.name);
    return {
      name: p.name,
      type: p.type,
      ...(d !== undefined && { default: d === "derived" ? "…" : d }),
    };
  }),
}));

/** The layers and models defined in some .moe texts, with their parameters (a light scan). */
export function definitionsIn(texts: Iterable<string>): Signature[] {
  const out: Signature[] = [];
  for (const text of texts) {
    const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    for (const m of code.matchAll(/\b(layer|model)\s+([A-Za-z_]\w*)\s*\(([^)]*)\)/g)) {
      const params = m[3]!
        .split(",")
        .map((p) => /^\s*(\w+)\s*:\s*(\w+)\s*(?:=\s*([\s\S]*?))?\s*$/.exec(p))
        .filter((p): p is RegExpExecArray => p !== null)
        .map((p) => ({
          name: p[1]!,
          type: p[2]!,
          ...(p[3] && { default: p[3].replace(/\s+/g, " ") }),
        }));
      out.push({ name: m[2]!, kind: m[1] as "layer" | "model", params });
    }
  }
  return out;
}

const signatureText = (s: Signature): string =>
  `${s.name}(${s.params.map((p) => `${p.name}: ${p.type}${p.default === undefined ? "" : ` = ${p.default}`}`).join(", ")})`;

const functionOptions: Completion[] = [...FUNCTIONS].map((name) => ({
  label: name,
  type: "function",
  detail: name === "split" || name === "join" ? "(x, heads)" : "activation",
}));

const keywordOptions: Completion[] = [...KEYWORDS, ...TYPES, ...ATOMS].map((label) => ({
  label,
  type: "keyword",
}));

/** The callee whose argument list the cursor is in, and the arguments already given. */
function enclosingCall(text: string): { callee: string; given: Set<string> } | undefined {
  let depth = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text[i];
    if (c === ")" || c === "]") depth++;
    else if (c === "[") depth--;
    else if (c === "(") {
      if (depth > 0) {
        depth--;
        continue;
      }
      const callee = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(text.slice(0, i))?.[1];
      if (!callee) return undefined;
      const args = text.slice(i + 1);
      const given = new Set([...args.matchAll(/([A-Za-z_]\w*)\s*=(?!=)/g)].map((m) => m[1]!));
      return { callee, given };
    } else if (c === "{" || c === "}") return undefined;
  }
  return undefined;
}

/**
 * Completion: named arguments inside a call of a known layer, activations after `act =`, else
 * layers (built-in, this file's, and those `visible()` returns, e.g. from the imported files),
 * the built-in functions and keywords.
 */
export function moeCompletions(visible: () => readonly Signature[] = () => []) {
  return (context: CompletionContext): CompletionResult | null => {
    const word = context.matchBefore(/[A-Za-z_]\w*/);
    if (!word && !context.explicit) return null;
    const from = word?.from ?? context.pos;
    const before = context.state.doc.sliceString(Math.max(0, from - 2000), from);
    // Inside a comment or string: nothing.
    const line = context.state.doc.lineAt(from);
    const lineBefore = line.text.slice(0, from - line.from);
    if (lineBefore.includes("//") || (lineBefore.match(/"/g)?.length ?? 0) % 2 === 1) return null;
    const signatures = new Map<string, Signature>();
    for (const s of [
      ...BUILTIN_SIGNATURES,
      ...visible(),
      ...definitionsIn([context.state.doc.toString()]),
    ])
      signatures.set(s.name, s);
    const options: Completion[] = [];
    const call = enclosingCall(before);
    const callee = call && signatures.get(call.callee);
    if (call && callee) {
      if (/\bact\s*=\s*$/.test(before))
        return {
          from,
          options: ACTIVATIONS.map((a) => ({ label: a, type: "function", boost: 99 })),
        };
      // Named arguments first; after `name =` the value completes as usual.
      if (!/=\s*$/.test(before)) {
        callee.params
          .filter((p) => !call.given.has(p.name))
          .forEach((p, i) =>
            options.push({
              label: `${p.name} =`,
              apply: `${p.name} = `,
              type: "property",
              detail: `${p.type}${p.default === undefined ? ", required" : ` = ${p.default}`}`,
              boost: 50 - i,
            }),
          );
      }
    }
    for (const s of signatures.values())
      options.push({
        label: s.name,
        type: "class",
        detail: s.kind,
        info: signatureText(s),
        apply: `${s.name}(`,
      });
    options.push(...functionOptions, ...keywordOptions);
    return { from, options, validFor: /^\w*$/ };
  };
}

export function moeSupport(): Extension {
  return [moeLanguage, syntaxHighlighting(highlight), foldBraces];
}
