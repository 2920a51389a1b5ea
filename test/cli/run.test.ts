// `moec run` and `moec compile` end to end: safetensors weights written by the project and by an
// independent writer (a Python script using only its standard library) load and give identical
// outputs, which match the float64 reference; bad weight files give clear errors.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { weightDecls } from "../../compiler/ir/graph.js";
import { runMoec } from "../helpers/golden.js";
import { parseSafetensors, toFloat32, writeSafetensors } from "../../runtime/safetensors.js";
import { initWeights } from "../../runtime/weights.js";
import { loadGraph, randomInputs, reference, relL2 } from "../runtime/helpers.js";
import { SMALL_PARITY } from "../../models/small.js";

const MODEL = "models/mh_moe_parity.moe";
const SETS = SMALL_PARITY;
const setArgs = SETS.flatMap((s) => ["--set", s]);

/** Writes safetensors from Python's standard library: unsorted names, its own header padding. */
const PYTHON_WRITER = String.raw`
import json, struct, sys
spec = json.load(open(sys.argv[1]))
raw = open(sys.argv[2], "rb").read()
header, offset = {}, 0
for t in reversed(spec):  # reverse order: the writer must not rely on sorted names
    n = 4 * t["count"]
    header[t["name"]] = {"dtype": "F32", "shape": t["shape"], "data_offsets": [offset, offset + n]}
    offset += n
header["__metadata__"] = {"writer": "python stdlib"}
text = json.dumps(header, separators=(",", ":")).encode()
text += b"\n" * ((-len(text)) % 8 + 8)  # padding unlike ours: newlines, one extra block
body = b"".join(raw[t["start"]:t["start"] + 4 * t["count"]] for t in reversed(spec))
open(sys.argv[3], "wb").write(struct.pack("<Q", len(text)) + text + body)
`;

describe("moec run", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "moec-run-"));
  const graph = loadGraph(MODEL, SETS);
  const weights = initWeights(weightDecls(graph), 3);
  const inputs = randomInputs(graph, 9, 4);
  const x = inputs.get("x")!;

  // Per-expert tensors, as a PyTorch state_dict names them.
  const perExpert: { name: string; shape: number[]; data: Float32Array }[] = [];
  for (const n of graph.nodes) {
    if (n.op !== "weight") continue;
    const name = (n.attrs as { name: string }).name;
    const shape = graph.values[n.outputs[0]!]!.type.shape as number[];
    const data = weights.get(name)!;
    if (!name.includes("{e}")) perExpert.push({ name, shape, data });
    else {
      const size = shape.slice(1).reduce((a, b) => a * b, 1);
      for (let e = 0; e < shape[0]!; e++) {
        perExpert.push({
          name: name.replace("{e}", String(e)),
          shape: shape.slice(1),
          data: data.subarray(e * size, (e + 1) * size),
        });
      }
    }
  }
  const inputFile = path.join(dir, "x.safetensors");
  writeFileSync(
    inputFile,
    writeSafetensors([{ name: "x", dtype: "F32", shape: [...x.shape], data: x.data }]),
  );
  const ours = path.join(dir, "ours.safetensors");
  writeFileSync(
    ours,
    writeSafetensors(
      perExpert.map((t) => ({ name: t.name, dtype: "F32", shape: t.shape, data: t.data })),
    ),
  );

  async function runWith(weightsFile: string, extra: string[] = []) {
    const output = path.join(dir, `y-${path.basename(weightsFile)}-${extra.join("")}.safetensors`);
    const stats = path.join(dir, "stats.json");
    const r = await runMoec([
      "run",
      MODEL,
      ...setArgs,
      "--weights",
      weightsFile,
      "--input",
      inputFile,
      "--output",
      output,
      "--stats",
      stats,
      ...extra,
    ]);
    return { ...r, output, stats };
  }

  it("loads weights written by the project and matches the float64 reference", async () => {
    const r = await runWith(ours);
    expect(r.code, r.stderr).toBe(0);
    const y = parseSafetensors(new Uint8Array(readFileSync(r.output))).tensors.get("y")!;
    const expected = reference(graph, inputs, weights).outputs.get("y")!;
    expect(y.shape).toEqual(expected.shape);
    expect(relL2(toFloat32(y), expected.data)).toBeLessThan(1e-5);
    const stats = JSON.parse(readFileSync(r.stats, "utf8"));
    expect(stats.layers[0].rowsRouted).toBe(9 * 2);
    expect(stats.layers[0].countsPerHead).toHaveLength(2);
    expect(r.stdout).toContain("active experts");
  }, 60_000);

  it("loads weights written by an independent writer, with bitwise identical outputs", async () => {
    let start = 0;
    const spec = perExpert.map((t) => {
      const entry = { name: t.name, shape: t.shape, count: t.data.length, start };
      start += 4 * t.data.length;
      return entry;
    });
    const raw = new Uint8Array(start);
    let at = 0;
    for (const t of perExpert) {
      raw.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
      at += t.data.byteLength;
    }
    writeFileSync(path.join(dir, "spec.json"), JSON.stringify(spec));
    writeFileSync(path.join(dir, "raw.bin"), raw);
    writeFileSync(path.join(dir, "writer.py"), PYTHON_WRITER);
    const theirs = path.join(dir, "theirs.safetensors");
    execFileSync("python3", [
      path.join(dir, "writer.py"),
      path.join(dir, "spec.json"),
      path.join(dir, "raw.bin"),
      theirs,
    ]);
    const a = await runWith(ours);
    const b = await runWith(theirs);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(b.output)).toEqual(readFileSync(a.output));
  }, 60_000);

  it("-O0 and -O2 agree", async () => {
    const a = await runWith(ours, ["-O0"]);
    const b = await runWith(ours, ["-O2"]);
    const ya = toFloat32(
      parseSafetensors(new Uint8Array(readFileSync(a.output))).tensors.get("y")!,
    );
    const yb = toFloat32(
      parseSafetensors(new Uint8Array(readFileSync(b.output))).tensors.get("y")!,
    );
    expect(relL2(yb, ya)).toBeLessThan(1e-5);
  }, 60_000);

  it("names a missing or misshapen weight and computes nothing", async () => {
    const missing = path.join(dir, "missing.safetensors");
    writeFileSync(
      missing,
      writeSafetensors(
        perExpert
          .slice(1)
          .map((t) => ({ name: t.name, dtype: "F32", shape: t.shape, data: t.data })),
      ),
    );
    const r = await runWith(missing);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(perExpert[0]!.name);
    expect(r.stdout).toBe("");

    const truncated = path.join(dir, "truncated.safetensors");
    writeFileSync(truncated, readFileSync(ours).subarray(0, 5000));
    const t = await runWith(truncated);
    expect(t.code).toBe(1);
    expect(t.stderr).toMatch(/truncated|beyond|range/);
    expect(t.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);

  it("rejects inputs of the wrong shape with a clear error", async () => {
    const bad = path.join(dir, "bad-x.safetensors");
    writeFileSync(
      bad,
      writeSafetensors([
        { name: "x", dtype: "F32", shape: [3, 31], data: new Float32Array(93).fill(1) },
      ]),
    );
    const r = await runMoec(["run", MODEL, ...setArgs, "--seed", "1", "--input", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/'x'/);
  }, 60_000);
});

describe("moec compile", () => {
  it("writes plan.json, plan.txt and the kernels", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "moec-compile-"));
    const r = await runMoec(["compile", MODEL, ...setArgs, "-o", dir]);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(readFileSync(path.join(dir, "plan.json"), "utf8"));
    expect(plan.format).toBe("moec-plan/2");
    const kernels = readdirSync(path.join(dir, "kernels"));
    expect(kernels.length).toBe(plan.shaders.length);
    expect(kernels.some((k) => k.includes("moe_grouped_up"))).toBe(true);
    expect(readFileSync(path.join(dir, "plan.txt"), "utf8")).toContain("moe_permute");
  });
});
