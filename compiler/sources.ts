// Loading a .moe file and everything it imports, with cycle detection. No file-system access
// here: a SourceHost supplies text, so the same code runs in Node and in a browser.
import type { Definition, SourceFile, Span } from "../grammar/ast.js";
import { type Diagnostic, DiagnosticBag } from "../grammar/diagnostics.js";
import { parse } from "../grammar/index.js";

export interface SourceHost {
  /** The text of a file, or undefined when there is none. */
  read(path: string): string | undefined;
  /**
   * Where `import "spec"` written in file `from` points. Relative specs resolve against the
   * importing file's folder; `std/...` resolves to the shipped library.
   */
  resolve(from: string, spec: string): string;
}

/** A host over an in-memory map of files, e.g. the shipped models embedded in a page. */
export function memoryHost(
  files: ReadonlyMap<string, string> | Record<string, string>,
): SourceHost {
  const map = files instanceof Map ? files : new Map(Object.entries(files));
  return {
    read: (path) => map.get(path),
    resolve: (from, spec) =>
      spec.startsWith("std/") ? `models/${spec}` : joinPath(dirname(from), spec),
  };
}

export function dirname(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : path.slice(0, slash) || "/";
}

/** Joins and normalises `a/b/../c` style paths without touching a file system. */
export function joinPath(base: string, rel: string): string {
  const parts = (rel.startsWith("/") ? rel : `${base}/${rel}`).split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (part === "." || part === "") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else out.push(part);
  }
  const joined = out.join("/");
  return rel.startsWith("/") || base.startsWith("/") ? `/${joined}` : joined;
}

export interface LoadedProgram {
  readonly entry: SourceFile;
  readonly files: ReadonlyMap<string, SourceFile>;
  /** Source texts by path, for caret snippets. */
  readonly texts: ReadonlyMap<string, string>;
  /** The definitions each file can see: its own and those of the files it imports. */
  readonly scopes: ReadonlyMap<string, ReadonlyMap<string, Definition>>;
  readonly diagnostics: readonly Diagnostic[];
  /**
   * The standard-library import (`std/moe.moe`) that defines `name`, for a hint when a file uses
   * a library block without importing it. Parses the library lazily, on the first question.
   */
  readonly stdImportFor?: (name: string) => string | undefined;
}

/**
 * The files of the standard library (models/std), as `import` specs. A host cannot list folders,
 * so a new library file is added here too; it only feeds the "add import ..." hint.
 */
export const STD_LIBRARY: readonly string[] = ["std/moe.moe", "std/transformer.moe"];

const MAX_IMPORT_DEPTH = 64;

export function loadProgram(entryPath: string, host: SourceHost): LoadedProgram {
  const bag = new DiagnosticBag();
  const files = new Map<string, SourceFile>();
  const texts = new Map<string, string>();
  const visiting: string[] = [];

  const load = (path: string, importedAt?: Span): SourceFile | undefined => {
    if (files.has(path)) return files.get(path);
    const text = host.read(path);
    if (text === undefined) {
      if (importedAt) bag.error(importedAt, `cannot find imported file '${path}'`);
      else bag.error(spanAtStart(path), `cannot read file '${path}'`);
      return undefined;
    }
    texts.set(path, text);
    const { ast, diagnostics } = parse(text, path);
    bag.items.push(...diagnostics);
    files.set(path, ast);
    visiting.push(path);
    for (const imp of ast.imports) {
      const target = host.resolve(path, imp.path);
      if (visiting.includes(target)) {
        const cycle = [...visiting.slice(visiting.indexOf(target)), target].join(" -> ");
        bag.error(imp.span, `import cycle: ${cycle}`);
      } else if (visiting.length >= MAX_IMPORT_DEPTH) {
        bag.error(imp.span, `imports nested more than ${MAX_IMPORT_DEPTH} deep`);
      } else {
        load(target, imp.span);
      }
    }
    visiting.pop();
    return ast;
  };

  const entry = load(entryPath) ?? emptyFile(entryPath);
  const scopes = new Map<string, Map<string, Definition>>();
  for (const [path, file] of files) {
    const scope = new Map<string, Definition>();
    const declare = (def: Definition, own: boolean) => {
      const previous = scope.get(def.name.name);
      if (previous === undefined) scope.set(def.name.name, def);
      else if (previous !== def && own) {
        bag.error(def.name.span, `'${def.name.name}' is already defined`, [
          { message: `first definition of '${def.name.name}'`, span: previous.name.span },
        ]);
      }
    };
    for (const def of file.definitions) declare(def, true);
    for (const imp of file.imports) {
      const imported = files.get(host.resolve(path, imp.path));
      for (const def of imported?.definitions ?? []) {
        if (!scope.has(def.name.name)) scope.set(def.name.name, def);
      }
    }
    scopes.set(path, scope);
  }
  let stdIndex: Map<string, string> | undefined;
  const stdImportFor = (name: string): string | undefined => {
    if (!stdIndex) {
      stdIndex = new Map();
      for (const spec of STD_LIBRARY) {
        const path = host.resolve(entryPath, spec);
        let file = files.get(path);
        if (!file) {
          const text = host.read(path);
          if (text === undefined) continue;
          file = parse(text, path).ast;
        }
        for (const def of file.definitions)
          if (!stdIndex.has(def.name.name)) stdIndex.set(def.name.name, spec);
      }
    }
    return stdIndex.get(name);
  };
  return { entry, files, texts, scopes, diagnostics: bag.items, stdImportFor };
}

function spanAtStart(file: string): Span {
  return { file, startOffset: 0, endOffset: 0, line: 1, column: 1, endLine: 1, endColumn: 1 };
}

function emptyFile(path: string): SourceFile {
  return {
    kind: "File",
    path,
    imports: [],
    definitions: [],
    comments: [],
    span: spanAtStart(path),
  };
}
