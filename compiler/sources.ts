// Loading a .moe file and everything it imports, with cycle detection. No file-system access
// here: a SourceHost supplies text, so the same code runs in Node and in a browser.
import type { Definition, SourceFile, Span } from "../grammar/ast.js";
import { type Diagnostic, DiagnosticBag } from "../grammar/diagnostics.js";
import { parse } from "../grammar/index.js";

/**
 * What a spec may import (README, "Imports"): a `.moe` file named by a path relative to the
 * importing file that stays inside the entry file's folder tree, or `std/NAME.moe` from the shipped
 * library (whose files may import each other). No absolute paths, nothing outside those two trees
 * (also not through a symbolic link), only regular files. A file that does not parse as a spec is
 * never quoted: its syntax errors are summarised at the import.
 */
export interface SourceHost {
  /**
   * The text of a spec file, or why there is none. `within`: a folder the file must really lie in
   * once symbolic links are followed (hosts without links may ignore it).
   */
  read(path: string, within?: string): ReadResult;
  /** The folder of the shipped library as this host spells paths: `std/x.moe` is `${stdRoot}/x.moe`. */
  readonly stdRoot: string;
}

export type ReadResult =
  | { readonly text: string }
  | { readonly problem: "missing" }
  | { readonly problem: "refused"; readonly why: string };

/** A host over an in-memory map of files, e.g. the shipped models embedded in a page. */
export function memoryHost(
  files: ReadonlyMap<string, string> | Record<string, string>,
): SourceHost {
  const map = files instanceof Map ? files : new Map(Object.entries(files));
  return {
    read: (path) => {
      const text = map.get(path);
      return text === undefined ? { problem: "missing" } : { text };
    },
    stdRoot: "models/std",
  };
}

export const SPEC_EXTENSION = ".moe";

/** Where `import "spec"` in file `from` points, and the folder it must stay in; or why not. */
export function resolveImport(
  from: string,
  spec: string,
  roots: { readonly project: string; readonly std: string },
): { readonly path: string; readonly root: string } | { readonly problem: string } {
  if (!spec.endsWith(SPEC_EXTENSION))
    return { problem: `cannot import '${spec}': imports name ${SPEC_EXTENSION} files` };
  if (spec.startsWith("/") || spec.includes("\\") || /^[A-Za-z]:/.test(spec))
    return {
      problem: `cannot import '${spec}': an import is a path relative to this file or std/NAME.moe, not an absolute path`,
    };
  const std = spec.startsWith("std/");
  const inStd = isWithin(from, roots.std);
  const root = std || inStd ? roots.std : roots.project;
  const target = std ? joinPath(roots.std, spec.slice(4)) : joinPath(dirname(from), spec);
  if (!isWithin(target, root)) {
    const where = root === roots.std ? "the std/ library" : `the folder '${root}'`;
    return {
      problem: `cannot import '${spec}': it leads outside ${where}; a spec may import .moe files under the folder of the file being compiled, and std/NAME.moe`,
    };
  }
  return { path: target, root };
}

/** Whether normalised `path` lies in folder `root` (both as joinPath spells them). */
export function isWithin(path: string, root: string): boolean {
  const r = joinPath(root, ".");
  const p = joinPath(path, ".");
  if (r === "" || r === ".") return !p.startsWith("/") && p !== ".." && !p.startsWith("../");
  if (r === "/") return p.startsWith("/");
  return p === r || p.startsWith(`${r}/`);
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
  const roots = { project: dirname(entryPath), std: host.stdRoot };
  /** Where each import of each file points (undefined: refused, reported at the import). */
  const targets = new Map<Span, string | undefined>();

  const load = (path: string, importedAt?: Span, root?: string): SourceFile | undefined => {
    if (files.has(path)) return files.get(path);
    if (!importedAt && !path.endsWith(SPEC_EXTENSION)) {
      bag.error(spanAtStart(path), `'${path}' is not a ${SPEC_EXTENSION} file`);
      return undefined;
    }
    const read = host.read(path, root);
    if (!("text" in read)) {
      if (read.problem === "missing")
        bag.error(
          importedAt ?? spanAtStart(path),
          `${importedAt ? "cannot find imported file" : "cannot read file"} '${path}'`,
        );
      else if (importedAt) bag.error(importedAt, `cannot import '${path}': ${read.why}`);
      else bag.error(spanAtStart(path), `cannot read file '${path}': ${read.why}`);
      return undefined;
    }
    const { text } = read;
    const { ast, diagnostics } = parse(text, path);
    const syntaxErrors = diagnostics.filter((d) => d.severity === "error").length;
    if (importedAt && syntaxErrors > 0) {
      // Never quote a file that is not a spec (it could be anything with a .moe name).
      bag.error(
        importedAt,
        `imported file '${path}' does not parse (${syntaxErrors} syntax error${syntaxErrors > 1 ? "s" : ""}); check it on its own to see them`,
      );
      const empty = emptyFile(path);
      files.set(path, empty);
      return empty;
    }
    texts.set(path, text);
    bag.items.push(...diagnostics);
    files.set(path, ast);
    visiting.push(path);
    for (const imp of ast.imports) {
      const resolved = resolveImport(path, imp.path, roots);
      if ("problem" in resolved) {
        targets.set(imp.span, undefined);
        bag.error(imp.span, resolved.problem);
        continue;
      }
      const target = resolved.path;
      targets.set(imp.span, target);
      if (visiting.includes(target)) {
        const cycle = [...visiting.slice(visiting.indexOf(target)), target].join(" -> ");
        bag.error(imp.span, `import cycle: ${cycle}`);
      } else if (visiting.length >= MAX_IMPORT_DEPTH) {
        bag.error(imp.span, `imports nested more than ${MAX_IMPORT_DEPTH} deep`);
      } else {
        load(target, imp.span, resolved.root);
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
      const target = targets.get(imp.span);
      const imported = target === undefined ? undefined : files.get(target);
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
        const path = joinPath(host.stdRoot, spec.slice("std/".length));
        let file = files.get(path);
        if (!file) {
          const read = host.read(path, host.stdRoot);
          if (!("text" in read)) continue;
          file = parse(read.text, path).ast;
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
