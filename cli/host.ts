// The Node source host: reads .moe files from disk; `std/...` imports resolve to the shipped
// library, shown relative to the working directory so diagnostics stay short and stable.
import { readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { SourceHost } from "../compiler/sources.js";

/** The package root: two levels above this file in both `cli/` and `dist/cli/`. */
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

export const nodeHost: SourceHost = {
  read(file) {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return undefined;
    }
  },
  resolve(from, spec) {
    if (spec.startsWith("std/")) return display(path.join(MODELS_DIR, spec));
    return display(path.resolve(path.dirname(from), spec));
  },
};
