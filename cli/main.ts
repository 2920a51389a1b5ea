// The `moec` command line: one table of commands, each with its help text and options.
import { parseArgs } from "node:util";
import type { FrontEndResult } from "../compiler/index.js";
import { compareCosts, fmt, modelCost, weightList, type ModelCost } from "../compiler/costs.js";
import { printGraph, printGraphDot } from "../compiler/ir/print.js";
import { printAst } from "../grammar/printAst.js";
import { PIPELINE, STAGE_NAMES, runPipeline } from "../compiler/passes/index.js";
import type { Graph } from "../compiler/ir/graph.js";
import { symbolsOf } from "../compiler/ir/types.js";
import { GradError } from "../compiler/autodiff/grad.js";
import { trainingGraph } from "../compiler/autodiff/train.js";
import {
  type Command,
  EXIT,
  escapingIo,
  type Io,
  MODEL_HELP,
  type Parsed,
  frontEnd,
  hasGraph,
  modelOptions,
  positiveInt,
  usageError,
} from "./common.js";
import { demo } from "./demo.js";
import { compile, run } from "./run.js";
import { train } from "./train.js";
import { evaluate } from "./eval.js";
import { bench } from "./bench.js";
import { importHf } from "./importHf.js";
import { generateCommand } from "./generate.js";

export { EXIT, type Io } from "./common.js";

const check: Command = {
  summary: "check .moe files and report every problem",
  usage: "moec check FILE... [--model NAME] [--set NAME=VALUE]...",
  details: `Parses, resolves and checks each file and lowers its model to IR. Prints diagnostics as
file.moe:LINE:COL: error: message, with the source line and a caret. Exit 1 on any error.`,
  options: modelOptions,
  run(args, io) {
    if (args.positionals.length === 0) return usageError(io, "check needs at least one FILE");
    let failed = false;
    for (const file of args.positionals) {
      const result = frontEnd(file, args, io);
      const errors = result.diagnostics.some((d) => d.severity === "error");
      if (errors) failed = true;
      else if (!result.graph) {
        const count = result.program.entry.definitions.length;
        io.out(`${file}: ok (library of ${count} definitions, no model)\n`);
      } else
        io.out(
          `${file}: ok (model ${result.model}, ${weightList(result.graph).length} weight tensors)\n`,
        );
    }
    return failed ? EXIT.errors : EXIT.ok;
  },
};

const params: Command = {
  summary: "parameters and FLOPs per token; with two files, their parity",
  usage:
    "moec params FILE [FILE_B] [--model NAME] [--set NAME=VALUE]... [--set-b NAME=VALUE]... [--tokens N] [--tolerance PCT] [--json]",
  details: `With one file: parameters (total, routers, experts, active per token) and multiply-adds and
FLOPs per token for every block and the whole model. With --json: every weight's dotted name,
shape and dtype, and the cost figures.
With two files: the parity comparison. Two models are at parity when their multiply-adds per
token (router logits excluded, as in the papers) are identical and their parameters (routers
excluded) differ by at most --tolerance percent (default 5). With two files, --set overrides
hyper-parameters of FILE only and --set-b those of FILE_B only, e.g. the h = 3 MH-MoE at parity:
  moec params models/smoe.moe models/mh_moe_parity.moe \\
    --set-b heads=3 --set-b experts=96 --set-b ffn=512 --set-b top_k=3
  --set-b NAME=VALUE  override a hyper-parameter of FILE_B's model (repeatable)
  --tokens N        sequence length T at which per-token costs are measured (default 1;
                    only attention depends on it)`,
  options: {
    ...modelOptions,
    "set-b": { type: "string", multiple: true },
    json: { type: "boolean" },
    tokens: { type: "string" },
    tolerance: { type: "string" },
  },
  run(args, io) {
    const files = args.positionals;
    if (files.length < 1 || files.length > 2)
      return usageError(io, "params takes one FILE, or two to compare");
    const tokens = positiveInt(args.values.tokens as string | undefined, 1);
    const tolerance = Number((args.values.tolerance as string | undefined) ?? "5") / 100;
    if (tokens === undefined || !(tolerance >= 0))
      return usageError(io, "--tokens must be a positive integer and --tolerance a percentage");
    const setB = (args.values["set-b"] as string[] | undefined) ?? [];
    if (setB.length > 0 && files.length < 2)
      return usageError(io, "--set-b overrides FILE_B; give two files (use --set for one)");
    // Per-file overrides: --set for A, --set-b for B (the two models rarely share names).
    const perFile: Parsed[] = [args, { ...args, values: { ...args.values, set: setB } }];
    const costs: ModelCost[] = [];
    const results: FrontEndResult[] = [];
    for (const [i, file] of files.entries()) {
      const result = frontEnd(file, perFile[i]!, io);
      if (!hasGraph(file, result, io)) return EXIT.errors;
      results.push(result);
      costs.push(modelCost(result.graph, tokens));
    }
    if (costs.length === 2) {
      const report = compareCosts(costs[0]!, costs[1]!, tolerance);
      if (args.values.json)
        io.out(
          JSON.stringify({ a: costs[0], b: costs[1], atParity: report.atParity }, null, 2) + "\n",
        );
      else {
        const flags = (flag: string, sets: unknown) =>
          ((sets as string[] | undefined) ?? []).map((s) => ` ${flag} ${s}`).join("");
        const a = `${files[0]}${flags("--set", args.values.set)}`;
        const b = `${files[1]}${flags("--set-b", setB)}`;
        io.out(`A = ${a}\nB = ${b}\n\n${report.lines.join("\n")}\n`);
      }
      return EXIT.ok;
    }
    const [cost] = costs;
    const graph = results[0]!.graph!;
    if (args.values.json) {
      const hyper = Object.fromEntries(results[0]!.hyperParams);
      io.out(
        JSON.stringify(
          { model: cost!.name, hyperParameters: hyper, weights: weightList(graph), cost },
          null,
          2,
        ) + "\n",
      );
      return EXIT.ok;
    }
    io.out(formatCost(cost!));
    return EXIT.ok;
  },
};

function formatCost(c: ModelCost): string {
  const lines = [
    `model ${c.name} (costs per token at T = ${c.tokens})`,
    "",
    `${"block".padEnd(24)} ${"params".padStart(14)} ${"active".padStart(14)} ${"mult-adds".padStart(14)} ${"FLOPs".padStart(14)}`,
  ];
  for (const b of c.blocks) {
    lines.push(
      `${b.name.padEnd(24)} ${fmt(b.params).padStart(14)} ${fmt(b.activeParams).padStart(14)} ${fmt(b.macsPerToken).padStart(14)} ${fmt(b.flopsPerToken).padStart(14)}`,
    );
  }
  lines.push(
    `${"total".padEnd(24)} ${fmt(c.params).padStart(14)} ${fmt(c.activeParams).padStart(14)} ${fmt(c.macsPerToken).padStart(14)} ${fmt(c.flopsPerToken).padStart(14)}`,
  );
  lines.push("");
  lines.push(
    `parameters: ${fmt(c.params)} total, ${fmt(c.expertParams)} in experts, ${fmt(c.routerParams)} in routers`,
  );
  lines.push(`router multiply-adds per token: ${fmt(c.routerMacsPerToken)}`);
  if (c.ternary) {
    const t = c.ternary;
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
    lines.push(
      `weight memory: ${mib(t.weightBytes)} (all f32: ${mib(t.f32WeightBytes)}); ${fmt(t.params)} ternary parameters (BitNet b1.58) in ${mib(t.bytes)}, ${(
        (4 * t.params) /
        t.bytes
      ).toFixed(1)}x smaller than f32`,
    );
  }
  lines.push(
    "active = the parameters one token uses: every weight outside the expert banks, plus in each bank the experts it is sent to (top_k of them; top_k per head for MH-MoE; at most all)",
  );
  return lines.join("\n") + "\n";
}

const graph: Command = {
  summary: "print a stage of the compiler: the AST, the lowered IR, or the IR after any pass",
  usage:
    "moec graph FILE [--stage STAGE] [--format text|dot] [--tokens N] [--model NAME] [--set NAME=VALUE]...",
  details: `  --stage ast       the syntax tree of FILE
  --stage ir        the lowered IR (default; also called 'lowered')
  --stage PASS      the IR after that pass of the -O2 pipeline, one of:
${PIPELINE.map((p) => `                      ${p.name.padEnd(15)} ${p.why}`).join("\n")}
  --stage grad      the training graph of a language model: forward, loss (cross-entropy
                    plus each router's load-balancing term) and the backward graph
  --stage grad:PASS the training graph after that pass (grad:fuse-moe shows the fused backward)
  --format dot      Graphviz instead of text (IR stages)
  --tokens N        bind T = N at the specialize pass (default: T stays symbolic)`,
  options: {
    ...modelOptions,
    stage: { type: "string" },
    format: { type: "string" },
    tokens: { type: "string" },
  },
  run(args, io) {
    const [file] = args.positionals;
    if (!file || args.positionals.length > 1) return usageError(io, "graph takes one FILE");
    const stage = (args.values.stage as string | undefined) ?? "ir";
    const format = (args.values.format as string | undefined) ?? "text";
    const stages = ["ast", "ir", ...STAGE_NAMES, "grad", ...STAGE_NAMES.map((n) => `grad:${n}`)];
    if (!stages.includes(stage))
      return usageError(io, `unknown stage '${stage}' (${stages.join(", ")})`);
    if (!["text", "dot"].includes(format))
      return usageError(io, `unknown format '${format}' (text, dot)`);
    const tokensText = args.values.tokens as string | undefined;
    const tokens = tokensText === undefined ? undefined : positiveInt(tokensText, 1);
    if (tokensText !== undefined && tokens === undefined)
      return usageError(io, "--tokens must be a positive integer");
    const result = frontEnd(file, args, io);
    if (stage === "ast") {
      const ast = result.program.files.get(file);
      if (!ast) return EXIT.errors;
      io.out(printAst(ast));
      return result.diagnostics.some((d) => d.severity === "error") ? EXIT.errors : EXIT.ok;
    }
    if (!hasGraph(file, result, io)) return EXIT.errors;
    let shown: Graph = result.graph;
    // `grad:PASS` is the training graph through the pipeline, like the forward's PASS.
    const [training, pass] = stage.startsWith("grad")
      ? [true, stage.split(":")[1]]
      : [false, stage];
    if (training) {
      try {
        shown = trainingGraph(result.graph);
      } catch (e) {
        if (!(e instanceof GradError)) throw e;
        io.err(`moec graph: ${file}: ${e.message}\n`);
        return EXIT.errors;
      }
    }
    if (pass !== undefined && pass !== "ir" && pass !== "lowered") {
      const bindings = tokens === undefined ? {} : symbolBindings(shown, tokens);
      shown = runPipeline(shown, { level: 2, bindings }).stages.get(pass)!;
    }
    io.out(format === "dot" ? printGraphDot(shown) : printGraph(shown));
    return EXIT.ok;
  },
};

/** Binds every symbolic dim of the graph (T) to `tokens`. */
export function symbolBindings(graph: Graph, tokens: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of graph.values) for (const s of symbolsOf(v.type.shape)) out[s] = tokens;
  return out;
}

export const COMMANDS: Record<string, Command> = {
  check,
  params,
  graph,
  compile,
  run,
  train,
  eval: evaluate,
  demo,
  bench,
  "import-hf": importHf,
  generate: generateCommand,
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `moec: compile .moe Mixture-of-Experts specs to WebGPU

Usage: moec COMMAND [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join("\n")}

Run 'moec COMMAND --help' for a command's options.
Exit codes: 0 clean, 1 errors in the input, 2 bad usage.
`;
}

function commandHelp(name: string, c: Command): string {
  const needsModel = Object.hasOwn(c.options ?? {}, "set");
  return `${c.usage}\n\n${c.summary}\n\n${c.details}\n${needsModel ? MODEL_HELP + "\n" : ""}`;
}

export async function main(argv: readonly string[], rawIo: Io): Promise<number> {
  const io = escapingIo(rawIo);
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(mainHelp());
    return name ? EXIT.ok : EXIT.usage;
  }
  if (name === "--version") {
    io.out("moec 0.1.0\n");
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) return usageError(io, `unknown command '${name}'`);
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(commandHelp(name, command));
    return EXIT.ok;
  }
  let parsed: Parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: command.options,
      allowPositionals: true,
      strict: true,
    }) as Parsed;
  } catch (e) {
    return usageError(io, (e as Error).message);
  }
  try {
    return await command.run(parsed, io);
  } catch (e) {
    // A file-system error the checks before the run could not foresee (a disk that filled up, a
    // file removed meanwhile) is about the user's files, not our bug: no trace, no exit 70.
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (!(e instanceof Error) || typeof code !== "string" || !/^E[A-Z]+$/.test(code)) throw e;
    io.err(`moec: ${e.message}\n`);
    return EXIT.errors;
  }
}
