// What every command shares: I/O, exit codes, the command shape, the front-end call.
import { writeFileSync } from "node:fs";
import type { ParseArgsConfig } from "node:util";
import { compileToIR, type FrontEndResult, type LowerOptions } from "../compiler/index.js";
import { formatDiagnostic, sortDiagnostics } from "../grammar/diagnostics.js";
import { nodeHost } from "../compiler/node/host.js";
import { FileError } from "../compiler/node/files.js";

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const EXIT = { ok: 0, errors: 1, usage: 2 } as const;

/**
 * Everything the command line prints passes through here (main wraps its Io): C0 control
 * characters except newline and tab, DEL, C1 controls and bidirectional overrides become \uXXXX,
 * so text quoted from a file (tensor names, header bytes, spec lines) cannot drive the terminal.
 * The \uXXXX form is also a valid JSON escape, so --json output stays JSON.
 */
export function escapeControl(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** An Io whose output cannot carry terminal control sequences (see escapeControl). */
export function escapingIo(io: Io): Io {
  return { out: (t) => io.out(escapeControl(t)), err: (t) => io.err(escapeControl(t)) };
}

export type Options = ParseArgsConfig["options"];
export type Parsed = {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
};

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly details: string;
  readonly options: Options;
  run(args: Parsed, io: Io): Promise<number> | number;
}

export const modelOptions: Options = {
  model: { type: "string" },
  set: { type: "string", multiple: true },
};

export const MODEL_HELP = `  --model NAME      the model (or layer) to build; default: the last \`model\` in the file
  --set NAME=VALUE  override a hyper-parameter of that model (repeatable)`;

/** Runs the front end and prints its diagnostics; returns undefined when there were errors. */
export function frontEnd(
  file: string,
  args: Parsed,
  io: Io,
  lower: Pick<LowerOptions, "decode"> = {},
): FrontEndResult {
  const result = compileToIR(file, nodeHost, {
    model: args.values.model as string | undefined,
    overrides: (args.values.set as string[] | undefined) ?? [],
    ...lower,
  });
  for (const d of sortDiagnostics(result.diagnostics))
    io.err(formatDiagnostic(d, result.program.texts) + "\n");
  return result;
}

/** A graph, or a message saying why there is none (errors were printed already). */
export function hasGraph(
  file: string,
  result: FrontEndResult,
  io: Io,
): result is FrontEndResult & { graph: object } {
  if (result.graph) return true;
  if (!result.diagnostics.some((d) => d.severity === "error")) {
    io.err(`${file}: defines no model; pass --model NAME to pick a layer\n`);
  }
  return false;
}

export function usageError(io: Io, message: string): number {
  io.err(`moec: ${message}\nRun 'moec --help' for usage.\n`);
  return EXIT.usage;
}

export function positiveInt(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  return /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) && Number(text) >= 1
    ? Number(text)
    : undefined;
}

/** Writes one output file; a failure (disk full, permissions) is a FileError naming the file. */
export function writeOutput(file: string, content: Uint8Array | string): void {
  try {
    writeFileSync(file, content);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new FileError(`cannot write '${file}': ${code}`, code);
  }
}
