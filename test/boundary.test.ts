// The compiler/runtime boundary (design.md section 5): plan/ is a leaf, the runtime reads plans
// through plan/ only, and the precompiled page ships no compiler. Checked here, in `npm test`,
// by walking every import (static, re-export, dynamic and type-only) transitively from each
// entry, so an indirect path (runtime -> plan -> compiler) fails as well as a direct one.
import { readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Every .ts file under a folder of the repository (relative paths). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(ROOT, dir)).sort()) {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) out.push(...filesUnder(rel));
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

/** The specifiers a file imports, as the TypeScript scanner reads them (no regex). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(path.join(ROOT, file), "utf8"), true, true);
  return info.importedFiles.map((f) => f.fileName);
}

/** A relative specifier as a repository path (`../plan/size.js` -> `plan/size.ts`). */
function resolve(from: string, spec: string): string {
  return path.join(path.dirname(from), spec).replace(/\.js$/, ".ts");
}

/**
 * Walks the imports from the entries. Returns each file outside `allowed` that is imported, with
 * the chain that reached it; the walk does not go on past such a file, so each message names the
 * first step over the line. Bare specifiers (packages) are collected apart.
 */
function crossings(
  entries: readonly string[],
  allowed: (file: string) => boolean,
): { chains: string[]; packages: string[] } {
  const seen = new Map<string, string[]>(entries.map((e) => [e, [e]]));
  const chains: string[] = [];
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const spec of importsOf(file)) {
      if (!spec.startsWith(".")) {
        packages.add(spec);
        continue;
      }
      const target = resolve(file, spec);
      if (seen.has(target)) continue;
      const chain = [...seen.get(file)!, target];
      seen.set(target, chain);
      if (allowed(target)) queue.push(target);
      else chains.push(chain.join(" -> "));
    }
  }
  return { chains, packages: [...packages].sort() };
}

const under =
  (...dirs: string[]) =>
  (file: string) =>
    dirs.some((d) => file.startsWith(d + path.sep));

describe("import boundaries", () => {
  it("plan/ is a leaf: it imports nothing of the project and no package", () => {
    const entries = filesUnder("plan");
    expect(entries.length).toBeGreaterThan(5);
    const { chains, packages } = crossings(entries, under("plan"));
    expect(chains).toEqual([]);
    expect(packages).toEqual([]);
  });

  it("runtime/ reaches plan/ and itself only, never compiler/ or grammar/", () => {
    const entries = filesUnder("runtime");
    expect(entries).toContain(path.join("runtime", "session.ts"));
    expect(crossings(entries, under("runtime", "plan")).chains).toEqual([]);
  });

  it("the precompiled page reaches no compiler or grammar module", () => {
    const entry = path.join("examples", "playground", "src", "precompiled.ts");
    const page = under("runtime", "plan", path.join("examples", "playground", "src"));
    expect(crossings([entry], page).chains).toEqual([]);
  });

  it("the walk sees imports the boundary forbids (the check can fail)", () => {
    // compiler/plan.ts builds plans from graphs: it must show up as reaching compiler/ir.
    const entry = path.join("compiler", "plan.ts");
    const { chains } = crossings([entry], under("runtime", "plan"));
    expect(chains).toContain(`${entry} -> ${path.join("compiler", "ir", "graph.ts")}`);
  });
});
