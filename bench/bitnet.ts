// The BitNet b1.58 MoE block against the f32 block on the same adapter, in one run: kernel time
// (median of the runs) and weight memory. The SMoE block of bench/suite.ts at a smaller T; both
// at -O2 (the BitNet experts run as unfused integer kernels there, see README "BitNet").
//
//   npx tsx bench/bitnet.ts [--tokens N] [--repeat N] [--warmup N]
//
// A benchmark, not a test: it prints medians and ratios and never fails on a slow machine.
// Progress goes to stderr.
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type BenchModel, measureModels, pairedRatio } from "./measure.js";
import type { Plan } from "../plan/format.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import { loadSpec } from "./layers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    tokens: { type: "string", default: "256" },
    repeat: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
  },
});
const TOKENS = Number(values.tokens);
const SETS = ["dim=512", "experts=16", "top_k=2", "ffn=1024"];
const say = (line: string) => process.stderr.write(`[bitnet] ${line}\n`);

const load = (file: string) => loadSpec(file, SETS);

/** Bytes of the weight buffers the GPU holds, and the part in ternary (t2) tensors. */
function weightMemory(plan: Plan): { all: number; ternary: number } {
  let all = 0;
  let ternary = 0;
  for (const b of plan.buffers) {
    if (b.kind !== "weight") continue;
    all += b.bytes.coef;
    if (b.dtype === "t2") ternary += b.bytes.coef;
  }
  return { all, ternary };
}

const moec = await createNodeDevice();
const models: BenchModel[] = [
  { label: "SMoE f32", graph: load("models/smoe.moe"), level: 2 },
  { label: "SMoE BitNet b1.58", graph: load("models/smoe_bitnet.moe"), level: 2 },
];
const [f32, bit] = await measureModels(moec, models, {
  tokens: TOKENS,
  warmup: Math.max(0, Number(values.warmup)),
  repeat: Math.max(1, Number(values.repeat)),
  progress: say,
});
const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
const memF32 = weightMemory(f32!.plan);
const memBit = weightMemory(bit!.plan);
const lines = [
  `adapter: ${moec.describeAdapter()}`,
  `block: SMoE ${SETS.join(" ")} (SwiGLU experts), T = ${TOKENS}, -O2, ${f32!.timing} timing`,
  "",
  `${"variant".padEnd(20)} ${"median ms".padStart(10)} ${"min ms".padStart(10)} ${"weights".padStart(12)}`,
  ...(
    [
      [f32!, memF32],
      [bit!, memBit],
    ] as const
  ).map(
    ([r, m]) =>
      `${r.label.padEnd(20)} ${r.ms.median.toFixed(2).padStart(10)} ${r.ms.min.toFixed(2).padStart(10)} ${mib(m.all).padStart(12)}`,
  ),
  "",
  `time BitNet / f32: ${(bit!.ms.median / f32!.ms.median).toFixed(2)} (ratio of medians), ` +
    `${pairedRatio(bit!, f32!).toFixed(2)} (paired runs)`,
  `weight memory f32 / BitNet: ${(memF32.all / memBit.all).toFixed(1)}x overall; the expert ` +
    `matrices: ${mib(memBit.ternary)} packed (t2) vs ${mib(memF32.all - (memBit.all - memBit.ternary))} in f32`,
];
process.stdout.write(lines.join("\n") + "\n");
moec.device.destroy();
process.exit(0);
