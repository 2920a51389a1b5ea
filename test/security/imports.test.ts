// What a spec may import (README, "Imports"): .moe files under the entry file's folder and the
// std/ library, regular files only, never quoted unless they parse as a spec. Each case is a
// hostile import; none may leak file contents, hang, or throw.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { compileToIR } from "../../compiler/index.js";
import { memoryHost, resolveImport } from "../../compiler/sources.js";
import { runMoec } from "../helpers/golden.js";

const SECRET = "hunter2-do-not-print";
const ENV_MARKER = "MOEC_SECRET_ENV_MARKER";
process.env[ENV_MARKER] = SECRET;

const MODEL = `model M(dim: int = 8) {
  p = Linear(dim, dim)
  forward(x: f32[T, dim]) -> f32[T, dim] { return p(x) }
}
`;
const LIB = `layer Lib(dim: int) {
  p = Linear(dim, dim)
  forward(x: f32[T, dim]) -> f32[T, dim] { return p(x) }
}
`;

/** A project tree: root/outside.moe (not importable), root/proj/{m.moe, lib/..., ...}. */
function tree() {
  const root = mkdtempSync(path.join(tmpdir(), "moec-imports-"));
  const proj = path.join(root, "proj");
  mkdirSync(path.join(proj, "lib"), { recursive: true });
  writeFileSync(path.join(root, "outside.moe"), `// ${SECRET}\n${LIB}`);
  writeFileSync(path.join(proj, "lib", "ok.moe"), `import "../shared.moe"\n${LIB}`);
  writeFileSync(path.join(proj, "shared.moe"), "// shared definitions\n");
  writeFileSync(path.join(proj, "secret.moe"), `PASSWORD=${SECRET} \x1b[31mred\n`);
  symlinkSync(path.join(root, "outside.moe"), path.join(proj, "link.moe"));
  symlinkSync("/dev/zero", path.join(proj, "zero.moe"));
  symlinkSync(path.join(root), path.join(proj, "up"));
  mkdirSync(path.join(proj, "folder.moe"));
  execFileSync("mkfifo", [path.join(proj, "fifo.moe")]);
  return { root, proj };
}

async function checkImport(proj: string, spec: string) {
  const file = path.join(proj, "m.moe");
  writeFileSync(file, `import "${spec}"\n${MODEL}`);
  return runMoec(["check", file]);
}

describe("imports a spec may not make", () => {
  const { proj } = tree();
  const cases: [string, RegExp][] = [
    ["/etc/passwd", /imports name \.moe files/],
    ["/proc/self/environ", /imports name \.moe files/],
    ["../../../../../../etc/passwd", /imports name \.moe files/],
    ["/etc/hosts.moe", /not an absolute path/],
    ["../outside.moe", /leads outside the folder/],
    ["../../../../../../../../etc/x.moe", /leads outside the folder/],
    ["lib/../../outside.moe", /leads outside the folder/],
    ["std/../../../../etc/passwd.moe", /leads outside the std\/ library/],
    ["std/../smoe.moe", /leads outside the std\/ library/],
    ["link.moe", /outside .* symbolic link/],
    ["up/outside.moe", /outside .* symbolic link/],
    ["zero.moe", /outside .* symbolic link/],
    ["fifo.moe", /pipe \(FIFO\), not a regular file/],
    ["folder.moe", /a folder/],
    ["secret.moe", /does not parse \(\d+ syntax errors?\); check it on its own/],
    ["missing.moe", /cannot find imported file/],
  ];
  for (const [spec, why] of cases) {
    it(`import "${spec}" is refused, says why, and quotes nothing of the target`, async () => {
      const r = await checkImport(proj, spec);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(why);
      expect(r.stderr).toMatch(/m\.moe:1:1: error: /);
      expect(r.stderr).not.toContain(SECRET);
      expect(r.stderr).not.toContain("root:");
      expect(r.stderr).not.toContain("\x1b");
      expect(r.stdout).toBe("");
    }, 30_000);
  }

  it("allows files under the entry's folder (also back up from a subfolder) and std/", async () => {
    const file = path.join(proj, "good.moe");
    writeFileSync(
      file,
      `import "lib/ok.moe"\nimport "std/moe.moe"\nmodel G(dim: int = 8) {\n  a = Lib(dim)\n  forward(x: f32[T, dim]) -> f32[T, dim] { return a(x) }\n}\n`,
    );
    const r = await runMoec(["check", file]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  }, 30_000);
});

describe("entry files", () => {
  const { proj } = tree();
  it("must be .moe files: /etc/passwd and /proc/self/environ are not read", async () => {
    for (const file of ["/etc/passwd", "/proc/self/environ", "/dev/zero"]) {
      const r = await runMoec(["check", file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${file}:1:1: error: '${file}' is not a .moe file\n`);
    }
  }, 30_000);

  it("a FIFO, a device behind a .moe link and a folder are refused without reading", async () => {
    for (const [name, why] of [
      ["fifo.moe", "a pipe (FIFO), not a regular file"],
      ["zero.moe", "a device, not a regular file"],
      ["folder.moe", "a folder"],
    ]) {
      const file = path.join(proj, name!);
      const r = await runMoec(["check", file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${file}:1:1: error: cannot read file '${file}': ${why}\n`);
    }
  }, 30_000);

  it("a 6 GB sparse spec is refused from its size, before reading", async () => {
    const file = path.join(proj, "huge.moe");
    writeFileSync(file, "");
    truncateSync(file, 6e9);
    const r = await runMoec(["check", file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is 5.59 GiB (6000000000 bytes), over the limit of 5 MiB");
  }, 30_000);
});

describe("resolveImport: the one home of import resolution (any host)", () => {
  const roots = { project: "proj", std: "models/std" };
  it("resolves relative imports and std/, and refuses everything else", () => {
    expect(resolveImport("proj/m.moe", "a/b.moe", roots)).toEqual({
      path: "proj/a/b.moe",
      root: "proj",
    });
    expect(resolveImport("proj/a/b.moe", "../c.moe", roots)).toEqual({
      path: "proj/c.moe",
      root: "proj",
    });
    expect(resolveImport("proj/m.moe", "std/moe.moe", roots)).toEqual({
      path: "models/std/moe.moe",
      root: "models/std",
    });
    // Library files import each other relative to the library.
    expect(resolveImport("models/std/transformer.moe", "moe.moe", roots)).toEqual({
      path: "models/std/moe.moe",
      root: "models/std",
    });
    for (const spec of [
      "../x.moe",
      "std/../x.moe",
      "/x.moe",
      "C:/x.moe",
      "a\\..\\..\\x.moe",
      "x.txt",
      "x",
    ])
      expect(resolveImport("proj/m.moe", spec, roots)).toHaveProperty("problem");
    expect(resolveImport("models/std/moe.moe", "../smoe.moe", roots)).toHaveProperty("problem");
  });

  it("the in-memory host (the browser's) applies the same rules", () => {
    const host = memoryHost({
      "m.moe": `import "../x.moe"\nimport "std/../smoe.moe"\n${MODEL}`,
      "../x.moe": LIB,
      "models/smoe.moe": LIB,
    });
    const r = compileToIR("m.moe", host);
    const messages = r.diagnostics.map((d) => d.message);
    expect(messages).toEqual([
      expect.stringMatching(/cannot import '\.\.\/x\.moe': it leads outside the folder '\.'/),
      expect.stringMatching(/cannot import 'std\/\.\.\/smoe\.moe': it leads outside the std/),
    ]);
  });
});
