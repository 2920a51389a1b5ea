// The token table of the `.moe` language and its single lexer instance.
import { createToken, Lexer, type ILexerErrorMessageProvider, type TokenType } from "chevrotain";

// Categories: the parser consumes these, so one CONSUME covers a family of tokens.
export const Literal = createToken({ name: "Literal", pattern: Lexer.NA, label: "a literal" });
export const BinaryOp = createToken({ name: "BinaryOp", pattern: Lexer.NA, label: "an operator" });
export const UnaryOp = createToken({ name: "UnaryOp", pattern: Lexer.NA, label: "'-' or '!'" });
export const HyperType = createToken({
  name: "HyperType",
  pattern: Lexer.NA,
  label: "a type (int, float, bool, string or act)",
});
export const DType = createToken({
  name: "DType",
  pattern: Lexer.NA,
  label: "a tensor type (f32, f16 or i32)",
});

export const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n\f\uFEFF]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});
// Comments go to their own group: kept for a future formatter, invisible to the parser.
export const LineComment = createToken({
  name: "LineComment",
  pattern: /\/\/[^\n\r]*/,
  group: "comments",
});
// An unterminated block comment runs to the end of the file; index.ts reports it.
export const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*(?:[^*]|\*(?!\/))*(?:\*\/)?/,
  group: "comments",
  line_breaks: true,
});

// Runs of characters that can start no token are one token, which index.ts reports: chevrotain's
// own error mode retries every pattern at each character (1 MB of 'é' took over a second).
const tokenStart = /[ \t\r\n\f\uFEFFA-Za-z0-9_"/()[\]{},:=.+\-*%<>!]/;
const unexpectedRun = /(?:[^ \t\r\n\f\uFEFFA-Za-z0-9_"/()[\]{},:=.+\-*%<>!&|]|&(?!&)|\|(?!\|))+/y;
const unexpectedStarts: string[] = [];
for (let code = 0; code < 0x10000; code++) {
  const c = String.fromCharCode(code);
  if (!tokenStart.test(c)) unexpectedStarts.push(c); // '&' and '|' too: alone they start nothing
}
export const Unexpected = createToken({
  name: "Unexpected",
  pattern: (text: string, offset: number) => {
    unexpectedRun.lastIndex = offset;
    return unexpectedRun.exec(text);
  },
  start_chars_hint: unexpectedStarts, // a complement set: chevrotain can't work it out itself
  line_breaks: false,
  group: "unexpected",
});

export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  label: "a name",
});

// A missing closing quote still makes a token (up to the end of the line), so one typo gives
// one diagnostic ("unterminated string") instead of a cascade; escapes are checked in toAst.ts.
export const StringLit = createToken({
  name: "StringLit",
  pattern: /"(?:[^"\\\n\r]|\\[^\n\r])*"?/,
  categories: [Literal],
  label: "a string",
});

const floatPattern = /\d+(?:\.\d+(?:[eE][+-]?\d+)?|[eE][+-]?\d+)/y;
export const FloatLit = createToken({
  name: "FloatLit",
  // After a '.', digits are a field index: `blocks.0.1` is blocks -> 0 -> 1, not blocks . 0.1.
  pattern: (text: string, offset: number) => {
    if (text.charCodeAt(offset - 1) === 46 /* '.' */) return null;
    floatPattern.lastIndex = offset;
    return floatPattern.exec(text);
  },
  start_chars_hint: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  line_breaks: false,
  categories: [Literal],
  label: "a number",
});
export const IntLit = createToken({
  name: "IntLit",
  pattern: /\d+/,
  categories: [Literal],
  label: "an integer",
});

function keyword(word: string, categories: TokenType[] = []): TokenType {
  const name = word[0].toUpperCase() + word.slice(1) + "Kw";
  return createToken({
    name,
    pattern: word,
    longer_alt: Identifier,
    categories,
    label: `'${word}'`,
  });
}

export const Import = keyword("import");
export const Layer = keyword("layer");
// `model` is soft: a model may hold an instance named `model`, as Hugging Face checkpoints do.
export const Model = keyword("model", [Identifier]);
export const Forward = keyword("forward");
export const Return = keyword("return");
export const Repeat = keyword("repeat");
export const As = keyword("as");
export const Require = keyword("require");
export const If = keyword("if");
export const Then = keyword("then");
export const Else = keyword("else");
export const True = keyword("true", [Literal]);
export const False = keyword("false", [Literal]);
// Hyper-parameter type names are soft keywords: they also work as names (`act: act = gelu`).
export const IntKw = keyword("int", [HyperType, Identifier]);
export const FloatKw = keyword("float", [HyperType, Identifier]);
export const BoolKw = keyword("bool", [HyperType, Identifier]);
export const StringKw = keyword("string", [HyperType, Identifier]);
export const ActKw = keyword("act", [HyperType, Identifier]);
export const F32 = keyword("f32", [DType]);
export const F16 = keyword("f16", [DType]);
export const I32 = keyword("i32", [DType]);

function punct(name: string, text: string, categories: TokenType[] = []): TokenType {
  return createToken({ name, pattern: text, categories, label: `'${text}'` });
}

// Longer operators come first: the lexer takes the first match, not the longest.
export const Arrow = punct("Arrow", "->");
export const EqEq = punct("EqEq", "==", [BinaryOp]);
export const NotEq = punct("NotEq", "!=", [BinaryOp]);
export const LtEq = punct("LtEq", "<=", [BinaryOp]);
export const GtEq = punct("GtEq", ">=", [BinaryOp]);
export const AndAnd = punct("AndAnd", "&&", [BinaryOp]);
export const OrOr = punct("OrOr", "||", [BinaryOp]);
export const Lt = punct("Lt", "<", [BinaryOp]);
export const Gt = punct("Gt", ">", [BinaryOp]);
export const Bang = punct("Bang", "!", [UnaryOp]);
export const Equals = punct("Equals", "=");
export const Plus = punct("Plus", "+", [BinaryOp]);
export const Minus = punct("Minus", "-", [BinaryOp, UnaryOp]);
export const Star = punct("Star", "*", [BinaryOp]);
export const Slash = punct("Slash", "/", [BinaryOp]);
export const Percent = punct("Percent", "%", [BinaryOp]);
export const LParen = punct("LParen", "(");
export const RParen = punct("RParen", ")");
export const LCurly = punct("LCurly", "{");
export const RCurly = punct("RCurly", "}");
export const LBracket = punct("LBracket", "[");
export const RBracket = punct("RBracket", "]");
export const Comma = punct("Comma", ",");
export const Colon = punct("Colon", ":");
export const Dot = punct("Dot", ".");

/** Every token type, in lexing order (categories included, the lexer ignores them). */
export const allTokens: TokenType[] = [
  Literal,
  BinaryOp,
  UnaryOp,
  HyperType,
  DType,
  WhiteSpace,
  Unexpected,
  LineComment,
  BlockComment,
  StringLit,
  FloatLit,
  IntLit,
  Import,
  Layer,
  Model,
  Forward,
  Return,
  Repeat,
  As,
  Require,
  If,
  Then,
  Else,
  True,
  False,
  IntKw,
  FloatKw,
  BoolKw,
  StringKw,
  ActKw,
  F32,
  F16,
  I32,
  Identifier,
  Arrow,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  AndAnd,
  OrOr,
  Lt,
  Gt,
  Bang,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  LParen,
  RParen,
  LCurly,
  RCurly,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Dot,
];

// Control characters and odd spaces are shown as \u escapes, or the message would look empty.
const invisible = /[\x00-\x1f\x7f-\xa0\u2000-\u200f\u2028\u2029\ufeff]/g;

/** The message for characters that start no token (at most 20 of them are shown). */
export function unexpectedCharacters(chars: string): string {
  const all = Array.from(chars); // code points: never show half a surrogate pair
  const shown = all
    .slice(0, 20)
    .join("")
    .replace(invisible, (c) => {
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    });
  return `unexpected character${all.length === 1 ? "" : "s"} '${shown}${all.length > 20 ? "..." : ""}'`;
}

// Unexpected takes every character that starts no token, so this should never be needed.
const lexerErrors: ILexerErrorMessageProvider = {
  buildUnexpectedCharactersMessage: (text, offset, length) =>
    unexpectedCharacters(text.slice(offset, offset + length)),
  buildUnableToPopLexerModeMessage: () => "internal error: lexer mode stack is empty",
};

/**
 * A lexer for the token table. `validate`: check the token definitions while building (slow;
 * test/grammar/parse.test.ts does, the shared lexer does not).
 */
export function createLexer(options: { readonly validate?: boolean } = {}): Lexer {
  return new Lexer(allTokens, {
    ensureOptimizations: true,
    positionTracking: "onlyOffset", // lines and columns are computed on demand (toAst.ts Positions)
    errorMessageProvider: lexerErrors,
    skipValidations: !options.validate,
  });
}

let lexer: Lexer | undefined;

/** The one lexer, built on first use (building it analyses every token pattern). */
export function moeLexer(): Lexer {
  return (lexer ??= createLexer());
}
