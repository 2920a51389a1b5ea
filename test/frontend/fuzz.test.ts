// Fuzzing the front end: mutated shipped models (tokens and characters deleted, inserted,
// swapped, duplicated; in the model or in the library it imports), token soup and absurd sizes
// go through the whole front end (parse, load imports, check, lower, verify) and must come back
// as diagnostics, never as an exception or a hang (a 20 s guard per run: no speed budget, which
// would fail on a loaded machine; `npm run bench:frontend` measures speed).
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileToIR, type LowerOptions } from "../../compiler/index.js";
import { memoryHost } from "../../compiler/sources.js";
import { formatDiagnostic } from "../../grammar/diagnostics.js";
import { parse, printAst } from "../../grammar/index.js";
import { assertRepoRoot } from "../helpers/golden.js";

assertRepoRoot();

/** Every shipped file, keyed as memoryHost resolves them (`std/x.moe` -> `models/std/x.moe`). */
const SHIPPED = new Map<string, string>(
  [
    ...readdirSync("models")
      .filter((f) => f.endsWith(".moe"))
      .map((f) => `models/${f}`),
    ...readdirSync("models/std")
      .filter((f) => f.endsWith(".moe"))
      .map((f) => `models/std/${f}`),
  ]
    .sort()
    .map((p) => [p, readFileSync(p, "utf8")]),
);
const MODELS = [...SHIPPED.keys()].filter((p) => !p.startsWith("models/std/"));
const FILES = [...SHIPPED.keys()];

const HANG_GUARD_MS = 20_000;
/** FUZZ_SCALE=20 npx vitest run test/frontend/fuzz.test.ts fuzzes 20 times longer. */
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? "1") || 1);
const runs = (n: number) => ({ numRuns: Math.round(n * SCALE) });

// ---------------------------------------------------------------------------------------------
// Tokens of the sources (our own regular expression, independent of the real lexer).

const TOKEN =
  /\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[A-Za-z_]\w*|->|==|!=|<=|>=|&&|\|\||\S/g;

/** A token with the whitespace after it, so that joining the pieces gives the source back. */
function tokenize(text: string): string[] {
  const pieces: string[] = [];
  const lead = /^\s*/.exec(text)![0];
  if (lead) pieces.push(lead);
  for (const m of text.matchAll(TOKEN)) {
    const end = m.index + m[0].length;
    const ws = /^\s*/.exec(text.slice(end))![0];
    pieces.push(m[0] + ws);
  }
  return pieces;
}

const VOCAB = [
  ...new Set([...SHIPPED.values()].flatMap((t) => tokenize(t).map((p) => p.trim()))),
  // Things no shipped file contains.
  "@",
  "$",
  "#",
  '"',
  "/*",
  "*/",
  "\\",
  ";",
  "[",
  "]",
  "0",
  "-1",
  "1e999",
  "99999999999999999999999",
  "4096",
  "1000000000",
  "f16",
  "i32",
  "as",
  "then",
  "else",
  "model",
  "layer",
  "import",
  '"std/moe.moe"',
  '"models/lm_smoe.moe"',
  '"../x.moe"',
  "Identity()",
  "split",
  "join",
  "é",
  "\u0000",
].filter((t) => t.length > 0);

// Characters to insert: no digits, so that a mutation never just makes a stack of layers longer.
const CHARS = [
  "(",
  ")",
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  "=",
  "-",
  ">",
  "<",
  "!",
  "&",
  "|",
  "+",
  "*",
  "/",
  "%",
  ".",
  '"',
  "\\",
  "\n",
  "\r",
  "\t",
  " ",
  "\u0000",
  "\u00a0",
  "é",
  "\ud83d",
  "😀",
  "a",
  "x",
  "_",
];

type Mutation =
  | { kind: "deleteToken"; at: number }
  | { kind: "insertToken"; at: number; token: string }
  | { kind: "swapTokens"; a: number; b: number }
  | { kind: "duplicateTokens"; at: number; length: number }
  | { kind: "deleteChars"; at: number; length: number }
  | { kind: "insertChar"; at: number; char: string }
  | { kind: "swapChars"; a: number; b: number };

const tokenMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("deleteToken" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insertToken" as const),
    at: fc.nat(),
    token: fc.constantFrom(...VOCAB),
  }),
  fc.record({ kind: fc.constant("swapTokens" as const), a: fc.nat(), b: fc.nat() }),
  fc.record({
    kind: fc.constant("duplicateTokens" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 30 }),
  }),
);

const charMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("deleteChars" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant("insertChar" as const),
    at: fc.nat(),
    char: fc.constantFrom(...CHARS),
  }),
  fc.record({ kind: fc.constant("swapChars" as const), a: fc.nat(), b: fc.nat() }),
);

function mutate(text: string, m: Mutation): string {
  if (m.kind === "deleteChars" || m.kind === "insertChar" || m.kind === "swapChars") {
    const n = Math.max(1, text.length);
    if (m.kind === "deleteChars") {
      const at = m.at % n;
      return text.slice(0, at) + text.slice(at + m.length);
    }
    if (m.kind === "insertChar") {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.char + text.slice(at);
    }
    const [a, b] = [m.a % n, m.b % n].sort((x, y) => x - y) as [number, number];
    if (a === b || text.length === 0) return text;
    return text.slice(0, a) + text[b] + text.slice(a + 1, b) + text[a] + text.slice(b + 1);
  }
  const pieces = tokenize(text);
  const n = Math.max(1, pieces.length);
  switch (m.kind) {
    case "deleteToken":
      pieces.splice(m.at % n, 1);
      break;
    case "insertToken":
      pieces.splice(m.at % (pieces.length + 1), 0, `${m.token} `);
      break;
    case "swapTokens": {
      const [a, b] = [m.a % n, m.b % n];
      if (pieces.length > 0) [pieces[a], pieces[b]] = [pieces[b]!, pieces[a]!];
      break;
    }
    case "duplicateTokens": {
      const at = m.at % n;
      pieces.splice(at, 0, ...pieces.slice(at, at + m.length));
      break;
    }
  }
  return pieces.join("");
}

// ---------------------------------------------------------------------------------------------

/** Runs the whole front end on `files`; fails the property on a throw, a hang or a bad span. */
function frontEndSurvives(
  files: Map<string, string>,
  entry: string,
  options: LowerOptions = {},
): ReturnType<typeof compileToIR> {
  const start = performance.now();
  let result: ReturnType<typeof compileToIR>;
  try {
    result = compileToIR(entry, memoryHost(files), options);
  } catch (e) {
    throw new Error(`the front end threw: ${(e as Error).stack ?? e}`);
  }
  const ms = performance.now() - start;
  expect(ms, "one front-end run").toBeLessThan(HANG_GUARD_MS);
  for (const d of result.diagnostics) {
    const span = d.span;
    if (span.file !== "<command line>") {
      const text = files.get(span.file);
      expect(text, `diagnostic in unknown file ${span.file}: ${d.message}`).toBeDefined();
      const lines = text!.split(/\r\n|\r|\n/).length;
      expect(span.line, d.message).toBeGreaterThanOrEqual(1);
      expect(span.line, d.message).toBeLessThanOrEqual(lines);
      expect(span.column, d.message).toBeGreaterThanOrEqual(1);
      expect(span.startOffset, d.message).toBeLessThanOrEqual(text!.length);
    }
    expect(d.message).not.toMatch(/internal error|undefined|NaN|\[object/);
    const formatted = formatDiagnostic(d, files);
    expect(formatted.startsWith(`${span.file}:${span.line}:${span.column}: ${d.severity}: `)).toBe(
      true,
    );
  }
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) expect(result.graph).toBeUndefined();
  return result;
}

describe("mutated shipped models", () => {
  /** How many mutated runs ended with errors, to show the mutations do break things. */
  const outcome = { runs: 0, failed: 0 };
  const property = (mutation: fc.Arbitrary<Mutation>) =>
    fc.property(
      fc.constantFrom(...MODELS),
      fc.constantFrom(...FILES),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      (entry, target, mutations) => {
        // Mutate the entry itself or, as often, one of the library files.
        const victim = target.startsWith("models/std/") ? target : entry;
        const files = new Map(SHIPPED);
        files.set(victim, mutations.reduce(mutate, files.get(victim)!));
        const r = frontEndSurvives(files, entry);
        outcome.runs++;
        if (r.diagnostics.some((d) => d.severity === "error")) outcome.failed++;
        // The parser and the AST printer on their own, too.
        const parsed = parse(files.get(victim)!, victim);
        printAst(parsed.ast);
      },
    );

  it(
    "token deletions, insertions, swaps and duplications never throw",
    () => {
      fc.assert(property(tokenMutation), runs(300));
    },
    60_000 * SCALE,
  );

  it(
    "character deletions, insertions and swaps never throw",
    () => {
      fc.assert(property(charMutation), runs(300));
    },
    60_000 * SCALE,
  );

  it("most mutations do break the model (the properties above test error paths)", () => {
    expect(outcome.runs).toBeGreaterThan(0);
    expect(outcome.failed / outcome.runs).toBeGreaterThan(0.5);
  });

  it("the unmutated sources compile cleanly (the baseline of the properties above)", () => {
    for (const entry of MODELS) {
      const r = frontEndSurvives(new Map(SHIPPED), entry);
      expect(r.diagnostics).toEqual([]);
      expect(r.graph).toBeDefined();
    }
  });

  it("the tokenizer used for mutations gives every source back unchanged", () => {
    for (const text of SHIPPED.values()) expect(tokenize(text).join("")).toBe(text);
  });
});

describe("random token soup", () => {
  it(
    "sequences of language tokens never throw",
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.constantFrom(...VOCAB), fc.constantFrom(" ", "\n", "")), {
            maxLength: 200,
          }),
          (parts) => {
            const text = parts.map(([t, ws]) => t + ws).join("");
            frontEndSurvives(new Map([...SHIPPED, ["soup.moe", text]]), "soup.moe");
          },
        ),
        runs(200),
      );
    },
    60_000 * SCALE,
  );

  it(
    "definitions with shuffled members never throw",
    () => {
      // Plausible programs: a model whose body is a random list of well-formed members.
      const member = fc.constantFrom(
        "proj = Linear(dim, dim)",
        "proj = Linear(dim, 2 * dim)",
        "router = Router(dim, experts, top_k)",
        "bank = Experts(experts, dim, 4 * dim)",
        "moe = SMoE(dim, experts, top_k)",
        "mh = MHMoE(dim, 2, experts, top_k, 32)",
        "fg = FineGrainedMoE(dim, experts, top_k, 64)",
        "blocks = repeat 2 as i { Block(dim, 2, moe = i % 2 == 1) }",
        "norm = RMSNorm(dim)",
        "attn = Attention(dim, 2)",
        "require dim % 2 == 0",
        'require top_k <= experts, "top_k too large"',
        "sub = dim / 2",
      );
      const statement = fc.constantFrom(
        "y = proj(x)",
        "y = moe(x)",
        "y = bank(x, router(x))",
        "y = join(split(x, 2), 2)",
        "y = x + proj(x)",
        "y = blocks(x)",
        "y = mh(fg(x))",
        "y = attn(norm(x))",
        "x = y",
      );
      fc.assert(
        fc.property(
          fc.array(member, { maxLength: 8 }),
          fc.array(statement, { maxLength: 6 }),
          fc.constantFrom("x", "y", "proj(x)", "x, x"),
          (members, statements, ret) => {
            const text = `import "std/transformer.moe"
model M(dim: int = 16, experts: int = 4, top_k: int = 2) {
  ${members.join("\n  ")}

  forward(x: f32[T, dim]) -> f32[T, dim] {
    ${statements.join("\n    ")}
    return ${ret}
  }
}
`;
            frontEndSurvives(new Map([...SHIPPED, ["m.moe", text]]), "m.moe");
          },
        ),
        runs(200),
      );
    },
    60_000 * SCALE,
  );
});

describe("absurd sizes", () => {
  /** Int hyper-parameters of every shipped model, found by parsing it. */
  const intParams = MODELS.flatMap((entry) => {
    const model = parse(SHIPPED.get(entry)!, entry).ast.definitions.find(
      (d) => d.role === "model",
    )!;
    return model.params.filter((p) => p.type === "int").map((p) => [entry, p.name.name] as const);
  });

  it("finds the int hyper-parameters to blow up", () => {
    expect(intParams.length).toBeGreaterThan(20);
  });

  it(
    "any int hyper-parameter of any model set to 10^9, 10^12 or 2^53 - 1 is rejected fast",
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...intParams),
          fc.constantFrom(1e9, 1e12, Number.MAX_SAFE_INTEGER),
          ([entry, name], value) => {
            const r = frontEndSurvives(new Map(SHIPPED), entry, {
              overrides: [`${name}=${value}`],
            });
            expect(
              r.diagnostics.some((d) => d.severity === "error"),
              `${entry} --set ${name}=${value} was accepted`,
            ).toBe(true);
          },
        ),
        runs(150),
      );
    },
    60_000 * SCALE,
  );

  it("repeat 10^9 and a dimension of 10^12 written in the source are rejected fast", () => {
    const lm = SHIPPED.get("models/lm_smoe.moe")!;
    for (const [from, to] of [
      ["layers: int = 4", "layers: int = 1000000000"],
      ["dim: int = 128", "dim: int = 1000000000000"],
      ["vocab: int = 512", "vocab: int = 1000000000000"],
      ["experts: int = 8", "experts: int = 1000000000"],
      ["moe_ffn: int = 512", "moe_ffn: int = 1000000000000"],
    ] as const) {
      expect(lm).toContain(from);
      const files = new Map([...SHIPPED, ["models/lm_smoe.moe", lm.replace(from, to)]]);
      const r = frontEndSurvives(files, "models/lm_smoe.moe");
      expect(
        r.diagnostics.some((d) => d.severity === "error"),
        to,
      ).toBe(true);
    }
  });

  it(
    "absurd integers in place of any integer literal never throw or hang",
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...MODELS, "models/std/moe.moe", "models/std/transformer.moe"),
          fc.nat(),
          fc.constantFrom(
            "1000000000",
            "1000000000000",
            "9007199254740991",
            "9007199254740993",
            "0",
          ),
          (victim, index, value) => {
            const text = SHIPPED.get(victim)!;
            const ints = [...text.matchAll(/(?<![\w.])\d+(?![\w.])/g)];
            if (ints.length === 0) return;
            const m = ints[index % ints.length]!;
            const mutated = text.slice(0, m.index) + value + text.slice(m.index + m[0].length);
            const files = new Map([...SHIPPED, [victim, mutated]]);
            const entry = victim.startsWith("models/std/") ? "models/lm_mh_moe.moe" : victim;
            frontEndSurvives(files, entry);
          },
        ),
        runs(150),
      );
    },
    60_000 * SCALE,
  );
});
