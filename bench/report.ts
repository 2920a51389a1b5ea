// What `moec bench` measures, as data, and its text and JSON forms: the model, and interleaved
// with it the ratios that say whether the optimiser earns its keep: fused (-O2) against one
// kernel per op (-O0); the MoE block against a dense FFN with the same active multiply-adds (the
// sparse tax); an MH-MoE against the SMoE it matches; with `sweep`, the largest GEMM against the
// best tiling of a standalone dense GEMM of its shape.
import type { Graph } from "../compiler/ir/graph.js";
import type { OptLevel } from "../compiler/passes/index.js";
import type { MoecDevice } from "../runtime/device.js";
import { type SweepResult, describeConfig, gemmSweep, largestGemm } from "./gemm.js";
import { denseFfnFor, matchedSmoeFor, moeLayerInfo } from "./layers.js";
import { type BenchModel, type ModelResult, fmtMs, measureModels, pairedRatio } from "./measure.js";

export interface Ratio {
  readonly name: string;
  /** a / b of median kernel times (e.g. MoE / dense), or undefined where it does not apply. */
  readonly value?: number;
  /** The median of the ratios of runs that ran back to back (pairedRatio). */
  readonly paired?: number;
  /** The ratio per useful multiply-add, where the two sides' work differs. */
  readonly perMac?: number;
  readonly note: string;
}

export interface BenchReport {
  readonly adapter: string;
  readonly command: string;
  readonly tokens: number;
  readonly warmup: number;
  readonly repeat: number;
  readonly results: readonly ModelResult[];
  readonly ratios: readonly Ratio[];
  readonly sweep?: SweepResult;
}

export interface BenchRequest {
  readonly file: string;
  readonly graph: Graph;
  readonly compareFile?: string;
  readonly compareGraph?: Graph;
  readonly level: OptLevel;
  readonly tokens: number;
  readonly warmup: number;
  readonly repeat: number;
  /** The model alone: no comparison runs. */
  readonly quick: boolean;
  /** Also sweep tilings of a dense GEMM of the largest GEMM's shape (15 or so variants). */
  readonly sweep: boolean;
  readonly command: string;
  readonly progress: (line: string) => void;
}

/** Everything `moec bench` measures, as data. */
export async function benchReport(moec: MoecDevice, req: BenchRequest): Promise<BenchReport> {
  const name = req.graph.name;
  const models: BenchModel[] = [
    { label: `${name} -O${req.level}`, graph: req.graph, level: req.level },
  ];
  const other: OptLevel = req.level === 2 ? 0 : 2;
  const info = moeLayerInfo(req.graph);
  const notes: Record<string, string> = {};
  let dense: ReturnType<typeof denseFfnFor> | undefined;
  let matched: ReturnType<typeof matchedSmoeFor> | undefined;
  if (!req.quick) {
    models.push({ label: `${name} -O${other}`, graph: req.graph, level: other });
    if (info) {
      dense = denseFfnFor(info);
      models.push({ label: `dense FFN hidden=${dense.hidden} -O2`, graph: dense.graph, level: 2 });
    }
    if (req.compareGraph) {
      models.push({
        label: `${req.compareGraph.name} -O2 (--compare)`,
        graph: req.compareGraph,
        level: 2,
      });
    } else if (info && info.heads > 1) {
      matched = matchedSmoeFor(info);
      models.push({
        label: `matched SMoE experts=${matched.experts} ffn=${matched.ffn} -O2`,
        graph: matched.graph,
        level: 2,
      });
    }
  }
  const results = await measureModels(moec, models, {
    tokens: req.tokens,
    warmup: req.warmup,
    repeat: req.repeat,
    progress: req.progress,
  });
  const byLabel = (label: string) => results.find((r) => r.label === label);
  const main = results[0]!;
  const o2 = byLabel(`${name} -O2`);
  const o0 = byLabel(`${name} -O0`);
  const ratios: Ratio[] = [];
  if (o2 && o0) {
    ratios.push({
      name: "fused -O2 vs -O0",
      value: o0.ms.median / o2.ms.median,
      paired: 1 / pairedRatio(o2, o0),
      note: `-O0 ${fmtMs(o0.ms.median)} ms / -O2 ${fmtMs(o2.ms.median)} ms (speed-up)`,
    });
  }
  const fused = o2 ?? main;
  if (dense && info) {
    const d = results.find((r) => r.label.startsWith("dense FFN"))!;
    const ratio = fused.ms.median / d.ms.median;
    ratios.push({
      name: "sparse tax (MoE layer / dense FFN, same active MACs)",
      value: ratio,
      paired: pairedRatio(fused, d),
      perMac: ratio * (dense.macsPerToken / info.macsPerToken),
      note:
        `${fmtMs(fused.ms.median)} ms / ${fmtMs(d.ms.median)} ms; dense FFN(${info.dim}, ${dense.hidden}, ` +
        `${info.gated ? "gated " : ""}${info.act}): ${dense.macsPerToken} MACs/token vs ${info.macsPerToken}`,
    });
  } else if (!req.quick) notes.sparse = "not a single MoE layer [T, d] -> [T, d]";
  const cmp = results.find(
    (r) => r.label.endsWith("(--compare)") || r.label.startsWith("matched SMoE"),
  );
  if (cmp) {
    // The lowered graph: the optimised one has no expert_up left to describe.
    const cmpInfo = moeLayerInfo(models.find((m) => m.label === cmp.label)!.graph);
    const ratio = fused.ms.median / cmp.ms.median;
    const macsA = info?.macsPerToken;
    const macsB = cmpInfo?.macsPerToken;
    ratios.push({
      name: `parity (${name} / ${req.compareGraph ? req.compareFile : "matched SMoE"})`,
      value: ratio,
      paired: pairedRatio(fused, cmp),
      ...(macsA && macsB ? { perMac: ratio * (macsB / macsA) } : {}),
      note:
        `${fmtMs(fused.ms.median)} ms / ${fmtMs(cmp.ms.median)} ms` +
        (macsA && macsB ? `; MACs/token ${macsA} vs ${macsB}` : ""),
    });
  } else if (!req.quick) notes.parity = "not an MH-MoE layer; pass --compare FILE2";

  let sweep: SweepResult | undefined;
  const gemm = largestGemm(fused);
  if (req.sweep && gemm && fused.level === 2) {
    req.progress(
      `GEMM sweep: dense ${gemm.dims.rows}x${gemm.dims.inner}x${gemm.dims.out} (shape of ${gemm.kernel.name})`,
    );
    sweep = await gemmSweep(moec, gemm.dims, {
      warmup: req.warmup,
      repeat: req.repeat,
      progress: req.progress,
    });
    const best = sweep.best.result;
    ratios.push({
      name: "largest GEMM vs best tiled dense GEMM",
      value: gemm.kernel.gflops / best.gflops,
      note:
        `${gemm.kernel.name}: ${gemm.kernel.gflops.toFixed(1)} GFLOP/s; best tiling of a dense ` +
        `${gemm.dims.rows}x${gemm.dims.inner}x${gemm.dims.out}: ${best.gflops.toFixed(1)} GFLOP/s (${describeConfig(sweep.best.config)})`,
    });
  }
  for (const [key, note] of Object.entries(notes))
    ratios.push({ name: key === "sparse" ? "sparse tax" : "parity", note: `n/a: ${note}` });
  return {
    adapter: moec.describeAdapter(),
    command: req.command,
    tokens: req.tokens,
    warmup: req.warmup,
    repeat: req.repeat,
    results,
    ratios,
    ...(sweep && { sweep }),
  };
}

const pad = (s: string, n: number) => s.padEnd(n);
const num = (x: number, n = 9) => fmtMs(x).padStart(n);

/** The human-readable report. */
export function formatReport(r: BenchReport): string {
  const lines = [`adapter: ${r.adapter}`, `command: ${r.command}`, ""];
  lines.push(
    `T = ${r.tokens}; ${r.warmup} warm-up run(s), then ${r.repeat} timed round(s), variants interleaved; times in ms`,
  );
  const main = r.results[0]!;
  const rows = [main, ...r.results.slice(1)];
  lines.push("");
  lines.push(
    `${pad("model", 44)} ${"median".padStart(9)} ${"min".padStart(9)} ${"max".padStart(9)} ${"wall".padStart(9)} ${"GFLOP/s".padStart(8)}`,
  );
  for (const m of rows) {
    lines.push(
      `${pad(m.label, 44)} ${num(m.ms.median)} ${num(m.ms.min)} ${num(m.ms.max)} ${num(m.wallMs.median)} ${m.gflops.toFixed(1).padStart(8)}`,
    );
  }
  lines.push(
    `(model time = sum of its kernels, ${main.timing === "gpu" ? "GPU timestamp queries" : "each kernel submitted alone, host clock"}; wall = submit to read-back)`,
  );
  lines.push("");
  lines.push(`kernels of ${main.label}:`);
  lines.push(
    `${pad("kernel", 52)} ${"median".padStart(9)} ${"min".padStart(9)} ${"max".padStart(9)} ${"share".padStart(6)} ${"GFLOP/s".padStart(8)}`,
  );
  for (const k of main.kernels) {
    const share = main.ms.median > 0 ? (100 * k.ms.median) / main.ms.median : 0;
    lines.push(
      `${pad(k.name, 52)} ${num(k.ms.median)} ${num(k.ms.min)} ${num(k.ms.max)} ${`${share.toFixed(1)}%`.padStart(6)} ${(k.macs > 0 ? k.gflops.toFixed(1) : "-").padStart(8)}`,
    );
  }
  if (r.ratios.length > 0) {
    lines.push("");
    lines.push("ratios (of medians; paired: median ratio of runs that ran back to back):");
    for (const q of r.ratios) {
      const value = q.value === undefined ? "" : `${q.value.toFixed(2)}`;
      const paired = q.paired === undefined ? "" : `, paired runs ${q.paired.toFixed(2)}`;
      const perMac = q.perMac === undefined ? "" : `, per MAC ${q.perMac.toFixed(2)}`;
      lines.push(`  ${pad(q.name, 52)} ${value}${paired}${perMac}`);
      lines.push(`    ${q.note}`);
    }
  }
  if (r.sweep) {
    lines.push("");
    lines.push(
      `GEMM tilings, dense ${r.sweep.dims.rows}x${r.sweep.dims.inner}x${r.sweep.dims.out}:`,
    );
    for (const s of r.sweep.results) {
      const mark = s === r.sweep.best ? " <- best" : s === r.sweep.default ? " (default)" : "";
      lines.push(
        `  ${pad(describeConfig(s.config), 44)} ${num(s.result.ms.median)} ms ${s.result.gflops.toFixed(1).padStart(7)} GFLOP/s${mark}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/** The report as JSON: no plans or graphs, samples kept. */
export function reportJson(r: BenchReport): unknown {
  const model = (m: ModelResult) => ({
    label: m.label,
    level: m.level,
    tokens: m.tokens,
    timing: m.timing,
    ms: m.ms,
    wallMs: m.wallMs,
    macs: m.macs,
    gflops: m.gflops,
    kernels: m.kernels,
  });
  return {
    adapter: r.adapter,
    command: r.command,
    tokens: r.tokens,
    warmup: r.warmup,
    repeat: r.repeat,
    models: r.results.map(model),
    ratios: r.ratios,
    ...(r.sweep && {
      gemmSweep: {
        dims: r.sweep.dims,
        best: describeConfig(r.sweep.best.config),
        results: r.sweep.results.map((s) => ({
          config: s.config,
          ms: s.result.ms,
          gflops: s.result.gflops,
        })),
      },
    }),
  };
}
