// Golden files: text the compiler prints, stored under test/golden/<dir>/ and compared exactly.
//
//   const ast = new GoldenDir("ast");
//   ast.test("smoe.txt", () => runMoec(["graph", "models/smoe.moe", "--stage", "ast"]).stdout);
//   ast.checkOrphans();
//
// `npm run test:update` (vitest run -u) rewrites every golden from the current output and deletes
// orphans; review the diff. Without -u a changed golden fails, and so does a golden file that no
// test of its directory declares (a renamed or removed case). With CI=true vitest writes nothing,
// so a missing golden fails too.
import { readdirSync, rmSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { main } from "../../cli/main.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const GOLDEN_ROOT = path.join(REPO_ROOT, "test", "golden");

/** Paths in goldens are printed relative to the working directory, so it must be the root. */
export function assertRepoRoot(): void {
  if (path.resolve(process.cwd()) !== REPO_ROOT)
    throw new Error(`run the tests from the repository root (${REPO_ROOT}), not ${process.cwd()}`);
}

/** One directory of golden files, owned by one test file. */
export class GoldenDir {
  readonly root: string;
  readonly #declared = new Set<string>();

  constructor(readonly dir: string) {
    this.root = path.join(GOLDEN_ROOT, dir);
  }

  /** Declares a golden file (at collection time, so filtered runs still know it) and returns its path. */
  declare(name: string): string {
    if (this.#declared.has(name)) throw new Error(`golden ${this.dir}/${name} declared twice`);
    this.#declared.add(name);
    return path.join(this.root, name);
  }

  /** A test whose output must equal the golden file `name`. */
  test(name: string, produce: () => string | Promise<string>, timeout?: number): void {
    const file = this.declare(name);
    it(
      `${this.dir}/${name}`,
      async () => {
        const text = await produce();
        await expect(text).toMatchFileSnapshot(file);
      },
      timeout,
    );
  }

  /** Files under this directory that no test declared. */
  orphans(): string[] {
    return listFiles(this.root)
      .map((f) => path.relative(this.root, f).split(path.sep).join("/"))
      .filter((f) => !this.#declared.has(f))
      .sort();
  }

  /** A test that fails on orphan goldens, or deletes them when run with -u. */
  checkOrphans(): void {
    it(`test/golden/${this.dir} has no orphan files`, () => {
      const orphans = this.orphans();
      if (orphans.length > 0 && updating()) {
        for (const f of orphans) rmSync(path.join(this.root, f));
        return;
      }
      expect(
        orphans,
        `golden files no test produces: delete them or run 'npm run test:update'`,
      ).toEqual([]);
    });
  }
}

function listFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const full = path.join(dir, e);
    return statSync(full).isDirectory() ? listFiles(full) : [full];
  });
}

/** Whether vitest runs with -u (snapshot update mode "all"). */
function updating(): boolean {
  const state = expect.getState().snapshotState as unknown as { _updateSnapshot?: string };
  return state?._updateSnapshot === "all";
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `moec ARGV...` in-process, as the binary would, capturing both streams. */
export async function runMoec(argv: readonly string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
  });
  return { code, stdout, stderr };
}

/** A transcript of a command for a golden file: the command line, exit code, stderr, stdout. */
export function transcript(argv: readonly string[], r: CliResult): string {
  const parts = [`$ moec ${argv.join(" ")}`, `[exit ${r.code}]`];
  if (r.stderr) parts.push(`--- stderr\n${r.stderr.replace(/\n$/, "")}`);
  if (r.stdout) parts.push(`--- stdout\n${r.stdout.replace(/\n$/, "")}`);
  return parts.join("\n") + "\n";
}
