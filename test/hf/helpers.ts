// Shared by the Hugging Face checkpoint tests: the fixtures (test/fixtures/hf, saved by
// transformers itself, with its float64 reference), their imported specs, and the router outputs
// a plan keeps so a run's chosen experts can be read back.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { importHfConfig } from "../../compiler/hf/importConfig.js";
import { compileToIR, type FrontEndResult, type LowerOptions } from "../../compiler/index.js";
import type { Graph } from "../../compiler/ir/graph.js";
import { nodeHost } from "../../compiler/node/host.js";
import { formatDiagnostic } from "../../grammar/diagnostics.js";

export const FIXTURE_ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../fixtures/hf",
);

/** The f32 fixtures import-hf supports, one per architecture. */
export const SUPPORTED = [
  "mixtral",
  "qwen2_moe",
  "qwen3_moe",
  "olmoe",
  "deepseek_v3",
  "qwen3_moe_yarn",
  "deepseek_v3_yarn",
] as const;

/** test/fixtures/hf/README.md, "reference.json". */
export interface Reference {
  readonly prompt: string;
  readonly input_ids: readonly number[];
  /** [prompt tokens][vocab], float64. */
  readonly logits: readonly (readonly number[])[];
  /** MoE layer index -> per prompt token, the k chosen experts best first. */
  readonly experts: Readonly<Record<string, readonly (readonly number[])[]>>;
  /** The same for the prompt and greedy[:-1] (every token fed in while generating). */
  readonly sequence_experts: Readonly<Record<string, readonly (readonly number[])[]>>;
  readonly moe_layers: readonly number[];
  readonly top_k: number;
  readonly greedy: readonly number[];
  readonly greedy_text: string;
  readonly min_order_gap: number;
}

export function fixtureDir(name: string): string {
  return path.join(FIXTURE_ROOT, name);
}

export function readReference(name: string): Reference {
  return JSON.parse(
    readFileSync(path.join(fixtureDir(name), "reference.json"), "utf8"),
  ) as Reference;
}

const made: string[] = [];

/** A fresh temporary directory, removed by removeTempDirs (each test file's afterAll). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `moec-hf-${prefix}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A copy of a fixture folder to break, under a fresh temporary directory. */
export function copyFixture(name: string): string {
  const dir = path.join(tempDir(name), name);
  cpSync(fixtureDir(name), dir, { recursive: true });
  return dir;
}

/** The fixture's config.json imported as a spec, written to `dir`; returns the spec's path. */
export function writeImportedSpec(name: string, dir: string): string {
  const config = JSON.parse(readFileSync(path.join(fixtureDir(name), "config.json"), "utf8"));
  const file = path.join(dir, `${name}.moe`);
  writeFileSync(file, importHfConfig(config, `${name}/config.json`));
  return file;
}

/** The lowered graph of a spec, or an error listing its diagnostics. */
export function lowerSpec(file: string, options: LowerOptions = {}): Graph {
  const result: FrontEndResult = compileToIR(file, nodeHost, options);
  if (!result.graph) {
    const messages = result.diagnostics.map((d) => formatDiagnostic(d, result.program.texts));
    throw new Error(`${file} did not lower:\n${messages.join("\n")}`);
  }
  return result.graph;
}

/** Where one routing site's chosen expert ids live in an optimised graph. */
export interface RouteSite {
  readonly scope: string;
  readonly topK: number;
  readonly heads: number;
  /** IR value: expert ids [T·heads, topK], i32. */
  readonly expert: number;
}

/**
 * The expert-id output of each routing site's router: the site's statistic of first choices
 * (route_stats, or a fused node) reads it as its first input, and the router (route or moe_route,
 * whichever the level left) makes it as its first output.
 */
export function routeSites(graph: Graph): RouteSite[] {
  return graph.routing.map((site) => {
    const stats = graph.nodes[graph.values[site.top1]!.node]!;
    const expert = stats.inputs[0]!;
    const router = graph.nodes[graph.values[expert]!.node]!;
    if (router.outputs[0] !== expert)
      throw new Error(`${site.scope}: the statistic's first input is not a router's expert ids`);
    return { scope: site.scope, topK: site.topK, heads: site.heads, expert };
  });
}

/** Rows of a flat [rows, k] array as lists. */
export function rowsOf(data: ArrayLike<number>, k: number): number[][] {
  return Array.from({ length: data.length / k }, (_, r) =>
    Array.from({ length: k }, (_, j) => data[r * k + j]!),
  );
}

/** Relative L2 error of flat f32 logits against the reference's float64 rows. */
export function logitsRelL2(
  actual: ArrayLike<number>,
  expected: readonly (readonly number[])[],
): number {
  const want = expected.flat();
  if (actual.length !== want.length)
    throw new Error(`logits: ${actual.length} values, reference ${want.length}`);
  let num = 0;
  let den = 0;
  want.forEach((w, i) => {
    num += (actual[i]! - w) ** 2;
    den += w * w;
  });
  return Math.sqrt(num / den);
}

/** The numbers of a list in ascending order (a set, for comparing choices whose order is undefined). */
export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}
