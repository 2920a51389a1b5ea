// The parity experiment (`npm run experiment:parity`): SMoE, fine-grained MoE and MH-MoE with 2
// and 3 heads, the shipped lm_* specs scaled down, trained on the same bytes with the same steps
// and seeds; equal multiply-adds per token in the MoE layers (compiler costs, asserted). Writes
// bench/experiment/parity.md (validation perplexity, mean and spread across seeds; expert
// activation per layer) and bench/experiment/parity.svg. A script, not a test. The defaults (400
// steps of 2 x 64 bytes, 3 seeds, 4 variants) take about 9 minutes on a 2-core lavapipe machine
// (~0.11 s a step at dim 48, -O2); --steps 40 --seeds 1 is a 1-minute smoke run.
//
//   npm run experiment:parity -- [--steps N] [--seeds N] [--batch B] [--seq S] [--lr X]
//       [--dim D] [--threshold X] [--data PATH] [--quant b1.58] [--name STEM]
//
// --quant b1.58 trains every variant's MoE blocks as BitNet b1.58 (2411.16205 Table 3's setting;
// f32 masters, straight-through gradients) and writes parity-b1.58.md / .svg instead; --name STEM
// writes STEM.md / .svg (a run at another size beside the default one).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compileTraining } from "../compiler/autodiff/compileTraining.js";
import { nodeCost } from "../compiler/costs.js";
import type { Graph } from "../compiler/ir/graph.js";
import { profileOfDevice } from "../plan/profile.js";
import { createNodeDevice } from "../runtime/node/dawn.js";
import { BYTE_VOCAB, ByteCorpus } from "../runtime/train/data.js";
import { DEFAULT_OPTIMIZER } from "../runtime/train/schedule.js";
import { Trainer } from "../runtime/train/trainer.js";
import { type SiteLoad, validate } from "../runtime/train/validate.js";
import { initWeights } from "../runtime/weights.js";
import { parityPlot } from "./experimentPlot.js";
import { loadSpec } from "./layers.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, "bench", "experiment");
const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "400" },
    seeds: { type: "string", default: "3" },
    batch: { type: "string", default: "2" },
    seq: { type: "string", default: "64" },
    lr: { type: "string", default: "0.003" },
    dim: { type: "string", default: "48" },
    threshold: { type: "string", default: "0.5" },
    data: { type: "string" },
    quant: { type: "string" },
    name: { type: "string" },
  },
});
const QUANT = values.quant;
if (QUANT !== undefined && QUANT !== "b1.58") throw new Error('--quant must be "b1.58"');
/** The output files' stem: parity, or parity-b1.58 for BitNet experts. */
const STEM = values.name ?? (QUANT ? `parity-${QUANT}` : "parity");
if (!/^[\w.-]+$/.test(STEM)) throw new Error("--name must be a plain file name stem");
const STEPS = Number(values.steps);
const SEEDS = Number(values.seeds);
const BATCH = Number(values.batch);
const SEQ = Number(values.seq);
const LR = Number(values.lr);
const DIM = Number(values.dim);
/** An expert is active in a layer when its selection ratio exceeds THRESHOLD / experts. */
const THRESHOLD = Number(values.threshold);
for (const [name, v] of Object.entries({ STEPS, SEEDS, BATCH, SEQ, DIM }))
  if (!Number.isSafeInteger(v) || v < 1)
    throw new Error(`--${name.toLowerCase()} must be a positive integer`);
if (DIM % 6)
  throw new Error("--dim must be a multiple of 6 (MH-MoE with 2 and 3 heads, 2 attention heads)");
const say = (line: string) => process.stderr.write(`[parity] ${line}\n`);

const EXPERTS = 8;
const FFN = 4 * DIM;
const BASE = [
  `dim=${DIM}`,
  "layers=2",
  "attn_heads=2",
  "moe_every=1",
  `vocab=${BYTE_VOCAB}`,
  ...(QUANT ? [`quant=${QUANT}`] : []),
];
/** The variants; `ffn` of the MH-MoE ones is solved for parity below. */
const VARIANTS: { label: string; file: string; sets: string[]; solve?: boolean }[] = [
  {
    label: "SMoE",
    file: "models/lm_smoe.moe",
    sets: [`experts=${EXPERTS}`, "top_k=1", `moe_ffn=${FFN}`],
  },
  {
    label: "fine-grained (2 segments)",
    file: "models/lm_fine_grained.moe",
    sets: [`experts=${EXPERTS}`, "top_k=1", `moe_ffn=${FFN}`, "segments=2"],
  },
  {
    label: "MH-MoE h=2",
    file: "models/lm_mh_moe.moe",
    sets: [`experts=${EXPERTS}`, "top_k=1", "mh_heads=2"],
    solve: true,
  },
  {
    label: "MH-MoE h=3",
    file: "models/lm_mh_moe.moe",
    sets: [`experts=${EXPERTS}`, "top_k=1", "mh_heads=3"],
    solve: true,
  },
];

/** IR ops of the MoE layers (routing, head split/merge projections inside them, experts, combine). */
const MOE_OPS = /^(route|moe_|expert_|combine|capacity)/;

const load = (file: string, sets: readonly string[]) => loadSpec(file, [...BASE, ...sets]);

/**
 * Multiply-adds per token of the MoE layers: every node inside a MoE block's scope (experts, and
 * MH-MoE's head and merge projections); the router only when asked (fine-grained MoE routes over
 * more experts, a cost the papers' parity leaves out).
 */
function moeMacsPerToken(graph: Graph, withRouter = false): number {
  const scopes = new Set<string>();
  for (const n of graph.nodes) if (MOE_OPS.test(n.op)) scopes.add(moeScope(n.scope));
  const T = 1024;
  let macs = 0;
  for (const n of graph.nodes)
    if (
      (withRouter || !n.scope.endsWith(".router")) &&
      [...scopes].some((s) => s !== "" && (n.scope === s || n.scope.startsWith(`${s}.`)))
    )
      macs += nodeCost(graph, n, { T }).macs;
  return macs / T;
}

/** The MoE block's scope of a node: the scope up to its last `moe` / `ffn` segment. */
function moeScope(scope: string): string {
  const parts = scope.split(".");
  let i = parts.length - 1;
  while (i >= 0 && !/moe|ffn/.test(parts[i]!)) i--;
  return parts.slice(0, i >= 0 ? i + 1 : parts.length).join(".");
}

function corpusBytes(): { bytes: Uint8Array; source: string } {
  if (values.data) return { bytes: readFileSync(values.data), source: values.data };
  const files = [
    "README.md",
    ...readdirSync(path.join(ROOT, "models"))
      .filter((f) => f.endsWith(".moe"))
      .map((f) => `models/${f}`),
  ];
  return {
    bytes: Buffer.concat(files.map((f) => readFileSync(path.join(ROOT, f)))),
    source: `the repository's ${files.join(", ")}`,
  };
}

// Parity: the MoE multiply-adds per token of every variant equal SMoE's.
const target = moeMacsPerToken(load(VARIANTS[0]!.file, VARIANTS[0]!.sets));
for (const v of VARIANTS.filter((x) => x.solve)) {
  // The MoE layer's cost is affine in moe_ffn: solve a + b·f = target.
  const at = (f: number) => moeMacsPerToken(load(v.file, [...v.sets, `moe_ffn=${f}`]));
  const [m1, m2] = [at(FFN), at(2 * FFN)];
  const f = Math.round(FFN + ((target - m1) * FFN) / (m2 - m1));
  v.sets.push(`moe_ffn=${f}`);
}
const macs = VARIANTS.map((v) => moeMacsPerToken(load(v.file, v.sets)));
const routerMacs = VARIANTS.map((v, i) => moeMacsPerToken(load(v.file, v.sets), true) - macs[i]!);
VARIANTS.forEach((v, i) =>
  say(
    `${v.label}: ${v.sets.join(" ")}: ${macs[i]} MoE multiply-adds per token (+ ${routerMacs[i]} in routers)`,
  ),
);
for (const [i, m] of macs.entries())
  if (Math.abs(m - target) / target > 0.01)
    throw new Error(
      `${VARIANTS[i]!.label} is off parity: ${m} vs ${target} MoE multiply-adds per token (more than 1%)`,
    );

const { bytes, source } = corpusBytes();
const corpus = new ByteCorpus(bytes, SEQ, "data");
const held = corpus.validationSequences(16);
const moec = await createNodeDevice();
const adapter = moec.describeAdapter();
const profile = profileOfDevice(moec);
interface Run {
  readonly perplexity: number;
  readonly sites: readonly SiteLoad[];
  readonly curve: readonly number[];
}
const results: Run[][] = [];
const started = Date.now();
for (const v of VARIANTS) {
  const plan = compileTraining(load(v.file, v.sets), { profile });
  const runs: Run[] = [];
  for (let seed = 0; seed < SEEDS; seed++) {
    const config = {
      ...DEFAULT_OPTIMIZER,
      lr: LR,
      steps: STEPS,
      warmup: Math.max(1, Math.round(STEPS / 10)),
    };
    const trainer = await Trainer.create(moec.device, plan, initWeights(plan.step, seed), config);
    const curve: number[] = [];
    for (let step = 1; step <= STEPS; step++) {
      const r = await trainer.step(corpus.batch(step, BATCH, seed));
      curve.push(r.ceLoss);
      if (step % Math.max(1, Math.round(STEPS / 5)) === 0 || step === STEPS)
        say(
          `${v.label} seed ${seed} step ${step}/${STEPS} ce ${r.ceLoss.toFixed(3)} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
        );
    }
    const val = await validate(trainer, held);
    runs.push({ perplexity: val.perplexity, sites: val.sites, curve });
    trainer.destroy();
  }
  results.push(runs);
}
moec.device.destroy();

/** Selection ratio of each (layer, expert) cell: its share of the layer's kept assignments. */
function ratios(site: SiteLoad): number[] {
  const perExpert = site.counts[0]!.map((_, e) => site.counts.reduce((a, h) => a + h[e]!, 0));
  const total = perExpert.reduce((a, b) => a + b, 0) || 1;
  return perExpert.map((c) => c / total);
}
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) =>
  xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

const summary = VARIANTS.map((v, i) => {
  const runs = results[i]!;
  const ppl = runs.map((r) => r.perplexity);
  const layers = runs[0]!.sites.map((s) => s.scope);
  const perLayer = layers.map((scope) =>
    mean(
      runs.map((r) => {
        const site = r.sites.find((s) => s.scope === scope)!;
        const rs = ratios(site);
        return rs.filter((x) => x > THRESHOLD / rs.length).length / rs.length;
      }),
    ),
  );
  const cells = runs.flatMap((r) => r.sites.flatMap((s) => ratios(s).map((x) => x * s.experts)));
  const active = cells.filter((x) => x > THRESHOLD).length / cells.length;
  return {
    label: v.label,
    sets: v.sets,
    macs: macs[i]!,
    router: routerMacs[i]!,
    ppl,
    perLayer,
    layers,
    cells,
    active,
  };
});

const md = [
  `# Parity experiment: SMoE, fine-grained MoE, MH-MoE h=2 and h=3${QUANT ? " (BitNet b1.58 MoE blocks)" : ""}`,
  "",
  ...(STEPS < 400 || SEEDS < 3
    ? [
        "**Smoke run**: fewer steps or seeds than the defaults (400 steps, 3 seeds); it shows the pipeline works, not a result.",
        "",
      ]
    : []),
  `Command: \`npm run experiment:parity -- --steps ${STEPS} --seeds ${SEEDS} --batch ${BATCH} --seq ${SEQ} --lr ${LR} --dim ${DIM} --threshold ${THRESHOLD}${values.data ? ` --data ${values.data}` : ""}${QUANT ? ` --quant ${QUANT}` : ""}\``,
  "",
  `Adapter: ${adapter}. Data: ${source} (${bytes.length} bytes, sha256 ${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}; the default changes whenever those files do; last 10% held out, ${held.length} validation sequences of ${SEQ} bytes). Common settings: ${BASE.join(" ")}; AdamW, lr ${LR}, ${STEPS} steps of ${BATCH} x ${SEQ} bytes, seeds 0..${SEEDS - 1}. Wall time ${((Date.now() - started) / 60000).toFixed(1)} min.`,
  "",
  `Parity: multiply-adds per token of the MoE layers (compiler costs, nodeCost; every node in a MoE block's scope except the router: experts, and MH-MoE's head and merge projections) are asserted equal to SMoE's within 1%; the router's multiply-adds are shown apart.`,
  "",
  "| variant | settings | MoE MACs/token | validation perplexity (mean ± sd) | per seed | expert activation | activation per layer |",
  "|---|---|---|---|---|---|---|",
  ...summary.map(
    (s) =>
      `| ${s.label} | ${s.sets.join(" ")} | ${s.macs.toFixed(0)} (+ ${s.router.toFixed(0)} router) | ${mean(s.ppl).toFixed(3)} ± ${s.ppl.length < 2 ? "n/a (1 seed)" : sd(s.ppl).toFixed(3)} | ${s.ppl.map((p) => p.toFixed(3)).join(", ")} | ${pct(s.active)} | ${s.perLayer.map(pct).join(", ")} |`,
  ),
  "",
  `**Expert activation** (as in 2404.15045 Fig. 1): the selection ratio of expert e in layer l is its share of the layer's kept (sub-)token assignments over the validation sequences (all heads summed); a (layer, expert) cell is active when its ratio exceeds ${THRESHOLD} / E, E the layer's number of experts (${EXPERTS}; fine-grained MoE splits each into segments, so it has ${EXPERTS} x segments): ${THRESHOLD} of the uniform share. The activation is the share of active cells over layers, experts and seeds.`,
  "",
  "**Distribution** of the selection ratio times E (1 = the uniform share) over all cells:",
  "",
  "| variant | min | 10% | 25% | median | 75% | 90% | max |",
  "|---|---|---|---|---|---|---|---|",
  ...summary.map(
    (s) =>
      `| ${s.label} | ${[0, 0.1, 0.25, 0.5, 0.75, 0.9, 1].map((q) => quantile(s.cells, q).toFixed(2)).join(" | ")} |`,
  ),
  "",
  `![parity plot](${STEM}.svg)`,
  "",
];
mkdirSync(OUT, { recursive: true });
writeFileSync(path.join(OUT, `${STEM}.md`), md.join("\n"));
writeFileSync(
  path.join(OUT, `${STEM}.svg`),
  parityPlot(
    summary.map((s, i) => ({
      label: s.label,
      perplexities: s.ppl,
      cells: s.cells,
      curve: results[i]!.map((r) => r.curve),
    })),
    THRESHOLD,
  ),
);
process.stdout.write(md.join("\n"));
say(`wrote ${path.join(OUT, `${STEM}.md`)} and ${STEM}.svg`);
process.exit(0);
