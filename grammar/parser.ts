// The `.moe` grammar. Rules only recognise syntax; every node is made by the AstBuilder
// (toAst.ts), so the grammar reads like the EBNF in the comments.
//
// Why embedded actions and not CstParser + visitor: on 1 MB inputs (up to 1M tokens) building
// chevrotain's CST alone took 0.9-2.4 s and ~400 bytes per node of garbage; recognising
// the same input takes 0.1-0.25 s. The 1 s budget per 1 MB file left no room for a CST.
import {
  EmbeddedActionsParser,
  EOF,
  tokenMatcher,
  type IParserErrorMessageProvider,
  type IToken,
  type TokenType,
} from "chevrotain";
import type * as A from "./ast.js";
import { MAX_CHAIN, type AstBuilder } from "./toAst.js";
import * as T from "./tokens.js";

/** Deepest nesting of expressions (parentheses, call arguments, if/repeat) we accept. */
export const MAX_NESTING = 200;

/** After this many syntax errors the parser gives up: recovery from garbage is costly. */
export const MAX_SYNTAX_ERRORS = 100;

/** How far error recovery looks ahead for a place to resume (see findReSyncTokenType). */
const RESYNC_WINDOW = 1000;

/** Thrown out of the parser to abandon a file; index.ts reports `message` at `token`. */
export class ParseAbort extends Error {
  constructor(
    message: string,
    readonly token: IToken,
  ) {
    super(message);
  }
}

function describe(token: IToken): string {
  if (token.tokenType === EOF) return "end of file";
  const image = token.image.length > 30 ? token.image.slice(0, 30) + "..." : token.image;
  return `'${image}'`;
}

function label(type: TokenType): string {
  return type === EOF ? "end of file" : (type.LABEL ?? type.name);
}

function expectedButFound(expected: string, actual: IToken): string {
  return actual.tokenType === EOF
    ? `unexpected end of file, expected ${expected}`
    : `expected ${expected} but found ${describe(actual)}`;
}

// When a list of members or statements stops at a token that is neither another item nor the
// closer, chevrotain reports "expected <closer>"; saying what else could have come is kinder.
const afterList: Record<string, string> = {
  "file:EOF": "'import', 'layer' or 'model'",
  "definition:RCurly": "a member (name = ..., 'require' or 'forward') or '}'",
  "forward:RCurly": "a statement (name = ... or 'return') or '}'",
};

const errorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual, ruleName }) =>
    expectedButFound(afterList[`${ruleName}:${expected.name}`] ?? label(expected), actual),
  // Only the top rule can leave input unparsed.
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    expectedButFound(afterList["file:EOF"], firstRedundant),
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, customUserDescription }) => {
    const firsts = new Set(expectedPathsPerAlt.flat().map((path) => label(path[0])));
    return expectedButFound(customUserDescription ?? [...firsts].join(" or "), actual[0]);
  },
  buildEarlyExitMessage: ({ actual, customUserDescription }) =>
    expectedButFound(customUserDescription ?? "more input", actual[0]),
};

/** Rules return undefined for what error recovery left incomplete; the builder skips those. */
type Maybe<N> = N | undefined;

export class MoeParser extends EmbeddedActionsParser {
  /** Current expression nesting, checked so deep input cannot overflow the stack. */
  private depth = 0;
  private b!: AstBuilder;

  /**
   * `validate`: check the grammar itself (ambiguities, left recursion) while building; it
   * triples the build time, so the shared instance skips it and test/grammar/parse.test.ts
   * builds one that validates.
   */
  constructor(options: { readonly validate?: boolean } = {}) {
    super(T.allTokens, {
      recoveryEnabled: true,
      maxLookahead: 2,
      errorMessageProvider: errorMessages,
      skipValidations: !options.validate,
    });
    this.performSelfAnalysis();
  }

  /** Parses one token vector into top-level nodes; errors land in `this.errors`. */
  parseFile(tokens: IToken[], builder: AstBuilder) {
    this.input = tokens;
    this.depth = 0;
    this.b = builder;
    return this.file();
  }

  // file := (import | definition)*
  file = this.RULE("file", () => {
    const imports: Maybe<A.ImportDecl>[] = [];
    const definitions: Maybe<A.Definition>[] = [];
    this.MANY(() =>
      this.OR([
        { ALT: () => imports.push(this.SUBRULE(this.importDecl)) },
        { ALT: () => definitions.push(this.SUBRULE(this.definition)) },
      ]),
    );
    return { imports, definitions };
  });

  // 'import' String
  importDecl = this.RULE("importDecl", (): Maybe<A.ImportDecl> => {
    this.checkpoint();
    const keyword = this.CONSUME(T.Import);
    const path = this.CONSUME(T.StringLit);
    return this.ACTION(() => this.b.importDecl(keyword, path));
  });

  // ('layer' | 'model') Name '(' [param (',' param)* [',']] ')' '{' member* '}'
  definition = this.RULE("definition", (): Maybe<A.Definition> => {
    this.checkpoint();
    const role = this.OR([
      { ALT: () => this.CONSUME(T.Layer) },
      { ALT: () => this.CONSUME(T.Model) },
    ]);
    const name = this.CONSUME(T.Identifier);
    const params: Maybe<A.HyperParam>[] = [];
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      params.push(this.SUBRULE(this.param));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        params.push(this.SUBRULE2(this.param));
      });
      this.OPTION2(() => this.CONSUME2(T.Comma)); // trailing comma
    });
    this.CONSUME(T.RParen);
    this.CONSUME(T.LCurly);
    const members: Maybe<A.Member>[] = [];
    this.MANY2(() => members.push(this.SUBRULE(this.member)));
    const close = this.CONSUME(T.RCurly);
    return this.ACTION(() => this.b.definition(role, name, params, members, close));
  });

  // name ':' type ['=' default]
  param = this.RULE("param", (): Maybe<A.HyperParam> => {
    this.checkpoint();
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    const type = this.CONSUME(T.HyperType);
    let equals: IToken | undefined;
    let value: Maybe<A.Expr>;
    this.OPTION(() => {
      equals = this.CONSUME(T.Equals);
      value = this.SUBRULE(this.expression);
    });
    return this.ACTION(() => this.b.param(name, type, equals, value));
  });

  // binding | 'require' expr [',' String] | forward
  member = this.RULE("member", (): Maybe<A.Member> => {
    this.checkpoint();
    return this.OR({
      DEF: [
        {
          ALT: () => {
            const name = this.CONSUME(T.Identifier);
            this.CONSUME(T.Equals);
            const value = this.SUBRULE(this.expression);
            return this.ACTION(() => this.b.assign("Binding", name, value));
          },
        },
        {
          ALT: () => {
            const keyword = this.CONSUME(T.Require);
            const condition = this.SUBRULE2(this.expression);
            let comma: IToken | undefined;
            let message: IToken | undefined;
            this.OPTION(() => {
              comma = this.CONSUME(T.Comma);
              message = this.CONSUME(T.StringLit);
            });
            return this.ACTION(() => this.b.requirement(keyword, condition, comma, message));
          },
        },
        { ALT: () => this.SUBRULE(this.forward) },
      ],
      ERR_MSG: "a member (name = ..., 'require' or 'forward')",
    });
  });

  // 'forward' '(' [decl (',' decl)* [',']] ')' '->' outputs '{' statement* '}'
  forward = this.RULE("forward", (): Maybe<A.Forward> => {
    const keyword = this.CONSUME(T.Forward);
    const inputs: Maybe<A.TensorDecl>[] = [];
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      inputs.push(this.SUBRULE(this.tensorDecl));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        inputs.push(this.SUBRULE2(this.tensorDecl));
      });
      this.OPTION2(() => this.CONSUME2(T.Comma)); // trailing comma
    });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Arrow);
    const outputs = this.SUBRULE(this.outputs);
    this.CONSUME(T.LCurly);
    const body: Maybe<A.Statement>[] = [];
    this.MANY2(() => body.push(this.SUBRULE(this.statement)));
    const close = this.CONSUME(T.RCurly);
    return this.ACTION(() => this.b.forward(keyword, inputs, outputs, body, close));
  });

  // tensorType (one output named `y`) | decl | '(' decl (',' decl)* ')'
  outputs = this.RULE("outputs", (): Maybe<A.TensorDecl>[] => {
    return this.OR({
      DEF: [
        {
          ALT: () => {
            const type = this.SUBRULE(this.tensorType);
            return [this.ACTION(() => this.b.unnamedOutput(type))];
          },
        },
        { ALT: () => [this.SUBRULE(this.tensorDecl)] },
        {
          ALT: () => {
            this.CONSUME(T.LParen);
            const decls = [this.SUBRULE2(this.tensorDecl)];
            this.MANY(() => {
              this.CONSUME(T.Comma);
              decls.push(this.SUBRULE3(this.tensorDecl));
            });
            this.CONSUME(T.RParen);
            return decls;
          },
        },
      ],
      ERR_MSG: "an output type",
    });
  });

  // name ':' tensorType
  tensorDecl = this.RULE("tensorDecl", (): Maybe<A.TensorDecl> => {
    this.checkpoint();
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    const type = this.SUBRULE(this.tensorType);
    return this.ACTION(() => this.b.tensorDecl(name, type));
  });

  // ('f32' | 'f16' | 'i32') '[' [expr (',' expr)*] ']'
  tensorType = this.RULE("tensorType", (): Maybe<A.TensorTypeExpr> => {
    const dtype = this.CONSUME(T.DType);
    const dims: Maybe<A.Expr>[] = [];
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      dims.push(this.SUBRULE(this.expression));
      this.MANY(() => {
        this.CONSUME(T.Comma);
        dims.push(this.SUBRULE2(this.expression));
      });
    });
    const close = this.CONSUME(T.RBracket);
    return this.ACTION(() => this.b.tensorType(dtype, dims, close));
  });

  // 'return' expr (',' expr)* | name '=' expr
  statement = this.RULE("statement", (): Maybe<A.Statement> => {
    this.checkpoint();
    return this.OR({
      DEF: [
        {
          ALT: () => {
            const keyword = this.CONSUME(T.Return);
            const values = [this.SUBRULE(this.expression)];
            this.MANY(() => {
              this.CONSUME(T.Comma);
              values.push(this.SUBRULE2(this.expression));
            });
            return this.ACTION(() => this.b.returnStatement(keyword, values));
          },
        },
        {
          ALT: () => {
            const name = this.CONSUME(T.Identifier);
            this.CONSUME(T.Equals);
            const value = this.SUBRULE3(this.expression);
            return this.ACTION(() => this.b.assign("Assign", name, value));
          },
        },
      ],
      ERR_MSG: "a statement (name = ... or 'return')",
    });
  });

  // operand (op operand)*: a flat list, grouped by precedence in the builder.
  expression = this.RULE("expression", (): Maybe<A.Expr> => {
    return this.nested(() => {
      const operands = [this.SUBRULE(this.operand)];
      const operators: IToken[] = [];
      this.MANY(() => {
        operators.push(this.CONSUME(T.BinaryOp));
        operands.push(this.SUBRULE2(this.operand));
      });
      // (Skipping the builder for a lone operand is safe in the recording phase: MANY runs once.)
      if (operators.length === 0) return operands[0];
      return this.ACTION(() => this.b.binary(operands, operators));
    });
  });

  // ('-' | '!')* atom ('(' args ')' | '.' (name | int))*
  operand = this.RULE("operand", (): Maybe<A.Expr> => {
    const prefixes: IToken[] = [];
    // OPTION first: chevrotain's recovery check after every MANY that ends in front of an
    // unexpected token (here: any atom but a literal) is slow, and most operands have no prefix.
    this.OPTION3(() => this.MANY(() => prefixes.push(this.CONSUME(T.UnaryOp))));
    const atom: Maybe<A.Expr> = this.OR({
      DEF: [
        { ALT: () => this.literal(this.CONSUME(T.Literal)) },
        { ALT: () => this.identifier(this.CONSUME(T.Identifier)) },
        {
          ALT: () => {
            const open = this.CONSUME(T.LParen);
            const inner = this.SUBRULE(this.expression);
            const close = this.CONSUME(T.RParen);
            return this.ACTION(() => this.b.parenthesized(open, inner, close));
          },
        },
        { ALT: () => this.SUBRULE(this.conditional) },
        { ALT: () => this.SUBRULE(this.repeat) },
      ],
      ERR_MSG: "an expression",
    });
    let expr = atom;
    let suffixes = 0;
    this.MANY2(() => {
      suffixes++;
      const build = suffixes <= MAX_CHAIN; // past that, an error: no use building a huge chain
      this.OR2([
        {
          ALT: () => {
            const args: Maybe<A.Argument>[] = [];
            this.CONSUME2(T.LParen);
            this.OPTION(() => {
              args.push(this.SUBRULE(this.argument));
              this.MANY3(() => {
                this.CONSUME(T.Comma);
                args.push(this.SUBRULE2(this.argument));
              });
              this.OPTION2(() => this.CONSUME2(T.Comma)); // trailing comma
            });
            const close = this.CONSUME2(T.RParen);
            expr = this.ACTION(() => (build ? this.b.call(expr, args, close) : undefined));
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            const property = this.OR3({
              DEF: [
                { ALT: () => this.CONSUME2(T.Identifier) },
                { ALT: () => this.CONSUME(T.IntLit) }, // `blocks.0`: a repeat stack's element
              ],
              ERR_MSG: "a field name or index",
            });
            expr = this.ACTION(() => (build ? this.b.fieldAccess(expr, property) : undefined));
          },
        },
      ]);
    });
    if (prefixes.length === 0 && suffixes === 0) return atom;
    return this.ACTION(() => this.b.prefixed(prefixes, atom, expr, suffixes));
  });

  // [name '='] expr
  argument = this.RULE("argument", (): Maybe<A.Argument> => {
    this.checkpoint();
    let name: IToken | undefined;
    this.OPTION(() => {
      name = this.CONSUME(T.Identifier);
      this.CONSUME(T.Equals);
    });
    const value = this.SUBRULE(this.expression);
    return this.ACTION(() => this.b.argument(name, value));
  });

  // 'if' expr 'then' expr 'else' expr: the else branch is a whole expression, so it extends
  // as far to the right as possible.
  conditional = this.RULE("conditional", (): Maybe<A.Conditional> => {
    const keyword = this.CONSUME(T.If);
    const condition = this.SUBRULE(this.expression);
    this.CONSUME(T.Then);
    const then = this.SUBRULE2(this.expression);
    this.CONSUME(T.Else);
    const otherwise = this.SUBRULE3(this.expression);
    return this.ACTION(() => this.b.conditional(keyword, condition, then, otherwise));
  });

  // 'repeat' expr ['as' name] '{' expr '}'
  repeat = this.RULE("repeat", (): Maybe<A.Repeat> => {
    const keyword = this.CONSUME(T.Repeat);
    const count = this.SUBRULE(this.expression);
    let as: IToken | undefined;
    let index: IToken | undefined;
    this.OPTION(() => {
      as = this.CONSUME(T.As);
      index = this.CONSUME(T.Identifier);
    });
    this.CONSUME(T.LCurly);
    const body = this.SUBRULE2(this.expression);
    const close = this.CONSUME(T.RCurly);
    return this.ACTION(() => this.b.repeat(keyword, count, as, index, body, close));
  });

  private literal(token: IToken): Maybe<A.Expr> {
    return this.ACTION(() => this.b.literal(token));
  }

  private identifier(token: IToken): Maybe<A.Identifier> {
    return this.ACTION(() => this.b.identifier(token));
  }

  /**
   * Gives up on hopeless input. Called where every repetition (and so every error recovery
   * loop) passes: at list items and expressions.
   */
  private checkpoint(): void {
    this.ACTION(() => this.check());
  }

  private check(): void {
    // The public `errors` is a fresh copy per read, too slow for every expression: read the
    // internal array when it is there (chevrotain 11), the public copy otherwise.
    const errors = (this as unknown as { _errors?: unknown[] })._errors ?? this.errors;
    if (errors.length >= MAX_SYNTAX_ERRORS) {
      throw new ParseAbort("too many syntax errors, giving up", this.LA(1));
    }
  }

  /** Runs `body` one nesting level deeper; past MAX_NESTING the whole parse is abandoned. */
  private nested<R>(body: () => R): R {
    this.ACTION(() => {
      this.check();
      if (++this.depth > MAX_NESTING) {
        throw new ParseAbort("expressions nested too deeply", this.LA(1));
      }
    });
    try {
      return body();
    } finally {
      this.depth--; // harmless in the recording phase: parseFile resets it
    }
  }

  /**
   * Replaces chevrotain's (internal, untyped) search for a token to resume at after an error.
   * The original scans without bound for a token that may follow any rule being parsed; in one
   * huge definition that is the whole file, per error. Past RESYNC_WINDOW tokens we answer
   * EOF instead, which makes recovery give up on the rest of the file.
   */
  findReSyncTokenType(): TokenType {
    const follows = (this as unknown as { flattenFollowSet(): TokenType[] }).flattenFollowSet();
    for (let k = 1; k <= RESYNC_WINDOW; k++) {
      const token = this.LA(k);
      const match = follows.find((type) => type && tokenMatcher(token, type));
      if (match) return match;
      if (token.tokenType === EOF) break;
    }
    return EOF;
  }
}

let parser: MoeParser | undefined;

/**
 * The one parser instance, built on first use: building it analyses the grammar, which is too
 * slow to repeat, and commands that parse nothing (`moec --help`) should not pay for it.
 */
export function moeParser(): MoeParser {
  return (parser ??= new MoeParser());
}
