// Front-end speed: parse + check + lower (and the IR verifier) of the language models, in-process,
// with the sources already in memory. Target: under 50 ms for lm_smoe.moe at 24 layers.
//
//   npx tsx bench/frontend.ts [--runs 50] [--warmup 10]
//
// A benchmark, not a test: it prints medians and never fails on a slow machine.
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { verifyGraph } from "../compiler/ir/verify.js";
import { lowerProgram } from "../compiler/lower.js";
import { loadProgram, memoryHost } from "../compiler/sources.js";

const TARGET_MS = 50;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const { values } = parseArgs({
  options: { runs: { type: "string", default: "50" }, warmup: { type: "string", default: "10" } },
});
const RUNS = Math.max(1, Number(values.runs));
const WARMUP = Math.max(0, Number(values.warmup));

/** Every shipped .moe file, keyed as memoryHost resolves imports (`models/std/...`). */
function shippedSources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const dir of ["models", "models/std"]) {
    for (const f of readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith(".moe"))
      .sort())
      files.set(`${dir}/${f}`, readFileSync(path.join(ROOT, dir, f), "utf8"));
  }
  return files;
}

interface Case {
  readonly label: string;
  readonly entry: string;
  readonly overrides: readonly string[];
}

const CASES: Case[] = [
  { label: "lm_smoe layers=24", entry: "models/lm_smoe.moe", overrides: ["layers=24"] },
  {
    label: "lm_fine_grained layers=24",
    entry: "models/lm_fine_grained.moe",
    overrides: ["layers=24"],
  },
  { label: "lm_mh_moe layers=24", entry: "models/lm_mh_moe.moe", overrides: ["layers=24"] },
  { label: "lm_smoe (4 layers)", entry: "models/lm_smoe.moe", overrides: [] },
  { label: "lm_fine_grained (4 layers)", entry: "models/lm_fine_grained.moe", overrides: [] },
  { label: "lm_mh_moe (4 layers)", entry: "models/lm_mh_moe.moe", overrides: [] },
];

interface Sample {
  total: number;
  load: number;
  lower: number;
  verify: number;
  nodes: number;
}

function once(host: ReturnType<typeof memoryHost>, c: Case): Sample {
  const t0 = performance.now();
  const program = loadProgram(c.entry, host); // read + parse the entry and its imports
  const t1 = performance.now();
  const lowered = lowerProgram(program, { overrides: c.overrides }); // check + lower
  const t2 = performance.now();
  if (!lowered.graph) {
    const errors = lowered.diagnostics.filter((d) => d.severity === "error");
    throw new Error(`${c.label}: ${errors.map((d) => d.message).join("; ")}`);
  }
  const problems = verifyGraph(lowered.graph);
  const t3 = performance.now();
  if (problems.length > 0) throw new Error(`${c.label}: invalid IR: ${problems.join("; ")}`);
  return {
    total: t3 - t0,
    load: t1 - t0,
    lower: t2 - t1,
    verify: t3 - t2,
    nodes: lowered.graph.nodes.length,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const ms = (x: number) => x.toFixed(2).padStart(8);

const host = memoryHost(shippedSources());
console.log(
  `moec front end: parse + check + lower + verify, in memory; ${WARMUP} warm-up runs, ${RUNS} measured (Node ${process.version})`,
);
console.log(
  `${"case".padEnd(28)} ${"nodes".padStart(6)} ${"median".padStart(8)} ${"min".padStart(8)} ${"max".padStart(8)} ${"first".padStart(8)}   ${"parse".padStart(6)} ${"lower".padStart(8)} ${"verify".padStart(8)}  target`,
);
for (const c of CASES) {
  const first = once(host, c).total; // cold for the first case: includes the JIT warming up
  for (let i = 1; i < WARMUP; i++) once(host, c);
  const samples = Array.from({ length: RUNS }, () => once(host, c));
  const totals = samples.map((s) => s.total);
  const med = median(totals);
  console.log(
    `${c.label.padEnd(28)} ${String(samples[0]!.nodes).padStart(6)} ${ms(med)} ${ms(Math.min(...totals))} ${ms(Math.max(...totals))} ${ms(first)}   ${ms(median(samples.map((s) => s.load))).slice(2)} ${ms(median(samples.map((s) => s.lower)))} ${ms(median(samples.map((s) => s.verify)))}  ${med < TARGET_MS ? "under" : "OVER"} ${TARGET_MS} ms`,
  );
}
console.log(
  "times in ms; first = the first (unwarmed) run; parse/lower/verify = medians of each stage",
);
