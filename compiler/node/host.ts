// The Node source host (for the CLI, tests and benchmarks; browsers bring their own): reads .moe files from disk (regular files only, size checked first, and
// for imports only inside the folder compiler/sources.ts allows, also after symbolic links); the
// shipped library's folder is shown relative to the working directory so diagnostics stay short.
import { existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { SourceHost } from "../sources.js";
import { MAX_FILE_BYTES } from "../../grammar/index.js";
import { FileError, readRegularFile, reallyWithin } from "./files.js";

/** The package root: the nearest folder above this file (or the CLI bundle) holding models/std. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      if (statSync(path.join(dir, "models", "std")).isDirectory()) return dir;
    } catch {
      // keep climbing
    }
    dir = path.dirname(dir);
  }
  return process.cwd();
}

export const MODELS_DIR = path.join(packageRoot(), "models");

function display(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return (rel.startsWith("..") || path.isAbsolute(rel) ? p : rel).split(path.sep).join("/");
}

/** The shipped library's folder, as diagnostics show it. */
export const STD_DIR = display(path.join(MODELS_DIR, "std"));

export const nodeHost: SourceHost = {
  read(file, within) {
    if (within !== undefined && !reallyWithin(file, within)) {
      // A missing file is reported as missing; an existing one outside the tree is refused.
      if (!existsSync(file)) return { problem: "missing" };
      return { problem: "refused", why: `it lies outside '${within}' (through a symbolic link)` };
    }
    let bytes: Uint8Array;
    try {
      bytes = readRegularFile(file, "spec file", MAX_FILE_BYTES);
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      if (!existsSync(file)) return { problem: "missing" };
      return { problem: "refused", why: e.why };
    }
    return { text: new TextDecoder().decode(bytes) };
  },
  stdRoot: STD_DIR,
};
