// Hostile command lines and files for `moec run` and `moec compile`: each must end in a clear
// message naming the file or tensor (exit 1, or 2 for usage), before any work starts, never with
// a hang, an internal trace (exit 70), raw terminal control bytes or a half-written result.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../cli/main.js";
import { writeSafetensors } from "../../runtime/safetensors.js";
import { runMoec } from "../helpers/golden.js";

const MODEL = ["models/smoe.moe", "--set", "dim=16", "--set", "ffn=32"];
const LM = ["models/lm_smoe.moe"];
const dir = mkdtempSync(path.join(tmpdir(), "moec-bad-"));
const at = (name: string) => path.join(dir, name);

const X = at("x.safetensors");
writeFileSync(
  X,
  writeSafetensors([{ name: "x", dtype: "F32", shape: [2, 16], data: new Float32Array(32) }]),
);
const FIFO = at("fifo.safetensors");
execFileSync("mkfifo", [FIFO]);
const SPARSE = at("sparse.safetensors");
writeFileSync(SPARSE, "");
truncateSync(SPARSE, 30e9);
mkdirSync(at("folder"));
writeFileSync(at("file"), "");

/** A safetensors file from a raw JSON header text (so it can hold what our writer refuses). */
function rawSafetensors(name: string, header: string, data = new Uint8Array(0)): string {
  const json = new TextEncoder().encode(header);
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setUint32(0, json.length, true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  writeFileSync(at(name), bytes);
  return at(name);
}

async function fails(argv: string[], code: number, message: string | RegExp) {
  const r = await runMoec(argv);
  expect(r.code, r.stderr).toBe(code);
  if (typeof message === "string") expect(r.stderr).toContain(message);
  else expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at |ENOENT|EISDIR|ENOTDIR|ERR_FS/);
  // Nothing ran: the adapter line is the first thing a run prints.
  expect(r.stdout).toBe("");
  return r;
}

describe("special and oversized files are refused from their type and size, before reading", () => {
  const cases: [string, string[], string][] = [
    [
      "--weights /dev/zero",
      ["--input", X, "--weights", "/dev/zero"],
      "a device, not a regular file",
    ],
    ["--input /dev/zero", ["--input", "/dev/zero"], "a device, not a regular file"],
    ["--weights FIFO", ["--input", X, "--weights", FIFO], "a pipe (FIFO), not a regular file"],
    ["--input FIFO", ["--input", FIFO], "a pipe (FIFO), not a regular file"],
    ["--input a folder", ["--input", at("folder")], "a folder"],
    [
      "--input 30 GB sparse",
      ["--input", SPARSE],
      `input file '${SPARSE}': it is 27.9 GiB (30000000000 bytes), over the limit of 2.00 GiB`,
    ],
    ["--weights missing", ["--input", X, "--weights", at("nope")], "no such file"],
  ];
  for (const [label, extra, message] of cases)
    it(label, () => fails(["run", ...MODEL, ...extra], EXIT.errors, message), 30_000);
});

describe("output paths are checked before the run starts", () => {
  const run = (extra: string[]) => ["run", ...MODEL, "--input", X, ...extra];
  const cases: [string, string[], number, string][] = [
    [
      "--output in a missing folder",
      ["--output", at("missing/y.safetensors")],
      EXIT.errors,
      `--output file '${at("missing/y.safetensors")}': the folder '${at("missing")}' does not exist`,
    ],
    ["--output a folder", ["--output", at("folder")], EXIT.errors, "is a folder, not a file"],
    [
      "--output under a file",
      ["--output", at("file/y.safetensors")],
      EXIT.errors,
      `'${at("file")}' is not a folder`,
    ],
    [
      "--stats in a missing folder (with a good --output)",
      ["--output", at("y.safetensors"), "--stats", at("missing/s.json")],
      EXIT.errors,
      "--stats file",
    ],
    ["--stats a folder", ["--stats", at("folder")], EXIT.errors, "is a folder, not a file"],
    [
      "--output and --stats the same file",
      ["--output", at("same"), "--stats", at("same")],
      EXIT.usage,
      "--output and --stats name the same file",
    ],
  ];
  for (const [label, extra, code, message] of cases)
    it(label, () => fails(run(extra), code, message), 30_000);

  it("a failed check writes nothing (no first output before a failing second)", async () => {
    await fails(
      run(["--output", at("first.safetensors"), "--stats", at("folder")]),
      EXIT.errors,
      "is a folder",
    );
    expect(existsSync(at("first.safetensors"))).toBe(false);
  }, 30_000);

  it("compile -o naming an existing file, or a path under a file, says so", async () => {
    await fails(
      ["compile", ...MODEL, "-o", at("file")],
      EXIT.errors,
      `output folder '${at("file")}' exists and is a file, not a folder`,
    );
    await fails(
      ["compile", ...MODEL, "-o", at("file/out")],
      EXIT.errors,
      `'${at("file")}' is not a folder`,
    );
  }, 30_000);
});

describe("numbers on the command line and in files", () => {
  it("--seed= (empty) and other non-integers are usage errors", async () => {
    for (const seed of ["--seed=", "--seed=1e3", "--seed=-1", "--seed=0x10", "--seed=1.5"])
      await fails(["run", ...MODEL, "--input", X, seed], EXIT.usage, "--seed must be");
    await fails(["demo", "--seed="], EXIT.usage, "bad --tokens, --seed or -O");
  }, 30_000);

  it("I64 token ids beyond i32 are printed exactly (2^63 - 1, -2^63)", async () => {
    const ids = new BigInt64Array([5n, 2n ** 63n - 1n, 1n, -(2n ** 63n)]);
    const file = at("ids.safetensors");
    writeFileSync(file, writeSafetensors([{ name: "ids", dtype: "I64", shape: [4], data: ids }]));
    await fails(
      ["run", ...LM, "--input", file],
      EXIT.errors,
      "'ids' holds 9223372036854775807 at index 1",
    );
  }, 30_000);

  it("a shape of 2^63 in a header is printed exactly", async () => {
    const file = rawSafetensors(
      "shape.safetensors",
      '{"x":{"dtype":"F32","shape":[9223372036854775808,16],"data_offsets":[0,0]}}',
    );
    await fails(["run", ...MODEL, "--input", file], EXIT.errors, "[9223372036854775808, 16]");
  }, 30_000);

  it("T = 0 rows says that T must be at least 1", async () => {
    const file = at("empty.safetensors");
    writeFileSync(
      file,
      writeSafetensors([{ name: "x", dtype: "F32", shape: [0, 16], data: new Float32Array(0) }]),
    );
    await fails(["run", ...MODEL, "--input", file], EXIT.errors, "T must be at least 1");
  }, 60_000);
});

describe("safetensors that would compute garbage are errors naming the tensor", () => {
  it("an integer dtype for a float input", async () => {
    const file = at("int-x.safetensors");
    writeFileSync(
      file,
      writeSafetensors([{ name: "x", dtype: "I32", shape: [2, 16], data: new Int32Array(32) }]),
    );
    await fails(
      ["run", ...MODEL, "--input", file],
      EXIT.errors,
      `${file}: tensor 'x': dtype I32 is not a float type`,
    );
  }, 30_000);

  it("an integer dtype for a float weight", async () => {
    const file = at("int-w.safetensors");
    writeFileSync(
      file,
      writeSafetensors([
        { name: "moe.router.weight", dtype: "I8", shape: [8, 16], data: new Int8Array(128) },
      ]),
    );
    await fails(
      ["run", ...MODEL, "--input", X, "--weights", file],
      EXIT.errors,
      `${file}: tensor 'moe.router.weight': dtype I8 is not a float type`,
    );
  }, 30_000);

  it("a tensor named twice in the header (JSON.parse would keep the last)", async () => {
    const data = new Uint8Array(new Float32Array(64).buffer);
    const entry = '{"dtype":"F32","shape":[2,16],"data_offsets":[0,128]}';
    const entry2 = '{"dtype":"F32","shape":[2,16],"data_offsets":[128,256]}';
    const file = rawSafetensors("dup.safetensors", `{"x":${entry},"\\u0078":${entry2}}`, data);
    await fails(
      ["run", ...MODEL, "--input", file],
      EXIT.errors,
      `${file}: tensor 'x': the header names this tensor more than once`,
    );
  }, 30_000);
});

describe("terminal injection: text quoted from files is printed with control characters escaped", () => {
  it("tensor names and header bytes", async () => {
    const file = rawSafetensors(
      "evil.safetensors",
      '{"\\u001b[2J\\u001b]0;pwned\\u0007x\\u202e":{"dtype":"\\u001b[31mF32","shape":[1],"data_offsets":[0,4]}}',
      new Uint8Array(4),
    );
    const r = await fails(["run", ...MODEL, "--input", file], EXIT.errors, "unknown dtype");
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(r.stderr).toContain("\\u001b[2J\\u001b]0;pwned\\u0007x\\u202e");
  }, 30_000);

  it("spec text in a diagnostic snippet", async () => {
    const file = at("evil.moe");
    writeFileSync(
      file,
      "model M(dim: int = 8) {\n  p = Linear(dim, nope) // \x1b[2J\x1b[31m\x9b31m\u202e\n  forward(x: f32[T, dim]) -> f32[T, dim] { return p(x) }\n}\n",
    );
    const r = await runMoec(["check", file]);
    expect(r.code).toBe(EXIT.errors);
    expect(r.stderr).toContain("unknown name 'nope'");
    expect(r.stderr).toContain("// \\u001b[2J\\u001b[31m\\u009b31m\\u202e");
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  }, 30_000);
});

describe("what the moec binary prints", () => {
  it("Dawn's 'artificially reduced' limit warnings never reach the user", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", "cli/moec.ts", "run", ...MODEL, "--tokens", "2"],
      { encoding: "utf8", timeout: 100_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^adapter: /);
    expect(r.stderr).not.toMatch(/artificially reduced/);
  }, 120_000);
});
