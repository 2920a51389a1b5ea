// The `moec` command line: exit codes, help texts, and `params --json` as the weight-name
// contract of design.md section 3 (dotted PyTorch-style names, shapes in PyTorch layout).
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { COMMANDS, EXIT } from "../../cli/main.js";
import { assertRepoRoot, runMoec } from "../helpers/golden.js";

assertRepoRoot();

const BAD = "test/corpus/bad/shape_linear_in.moe";

describe("exit codes", () => {
  const cases: [string, string[], number][] = [
    ["a clean model", ["check", "models/smoe.moe"], EXIT.ok],
    ["several clean models", ["check", "models/smoe.moe", "models/lm_smoe.moe"], EXIT.ok],
    ["a library without a model", ["check", "models/std/moe.moe"], EXIT.ok],
    ["a model with errors", ["check", BAD], EXIT.errors],
    ["one bad file among good ones", ["check", "models/smoe.moe", BAD], EXIT.errors],
    ["a missing file", ["check", "test/corpus/no_such_file.moe"], EXIT.errors],
    ["an unknown --set name", ["check", "models/smoe.moe", "--set", "heads=2"], EXIT.errors],
    ["an invalid --set value", ["check", "models/smoe.moe", "--set", "dim=wide"], EXIT.errors],
    ["an unknown --model", ["check", "models/smoe.moe", "--model", "Nope"], EXIT.errors],
    ["params of a bad file", ["params", BAD], EXIT.errors],
    ["graph of a bad file", ["graph", BAD], EXIT.errors],
    ["the AST of a bad file", ["graph", BAD, "--stage", "ast"], EXIT.errors],
    ["no arguments at all", [], EXIT.usage],
    ["an unknown command", ["frobnicate"], EXIT.usage],
    ["check without files", ["check"], EXIT.usage],
    ["an unknown option", ["check", "models/smoe.moe", "--frobnicate"], EXIT.usage],
    ["a string option without value", ["check", "models/smoe.moe", "--model"], EXIT.usage],
    ["params with three files", ["params", "a.moe", "b.moe", "c.moe"], EXIT.usage],
    ["params --tokens 0", ["params", "models/smoe.moe", "--tokens", "0"], EXIT.usage],
    ["params --tolerance=-1", ["params", "models/smoe.moe", "--tolerance=-1"], EXIT.usage],
    ["params --tolerance -1", ["params", "models/smoe.moe", "--tolerance", "-1"], EXIT.usage],
    ["graph of two files", ["graph", "models/smoe.moe", "models/mh_moe.moe"], EXIT.usage],
    ["an unknown stage", ["graph", "models/smoe.moe", "--stage", "nope"], EXIT.usage],
    ["an unknown format", ["graph", "models/smoe.moe", "--format", "svg"], EXIT.usage],
    ["--help", ["--help"], EXIT.ok],
    ["help", ["help"], EXIT.ok],
    ["--version", ["--version"], EXIT.ok],
  ];
  for (const [label, argv, code] of cases) {
    it(`${label}: moec ${argv.join(" ")} exits ${code}`, async () => {
      const r = await runMoec(argv);
      expect(r.code, r.stderr).toBe(code);
      if (code === EXIT.usage && argv.length > 0) {
        // Usage errors say what was wrong and where to look, on stderr only.
        expect(r.stderr).toMatch(/^moec: [^]+\nRun 'moec --help' for usage\.\n$/);
        expect(r.stdout).toBe("");
      }
      if (code === EXIT.errors) expect(r.stderr).toMatch(/: error: /);
    });
  }

  it("check prints one ok line per clean file on stdout", async () => {
    const r = await runMoec(["check", "models/smoe.moe", BAD, "models/mh_moe.moe"]);
    expect(r.stdout).toBe(
      "models/smoe.moe: ok (model SMoELayer, 25 weight tensors)\n" +
        "models/mh_moe.moe: ok (model MHMoELayer, 29 weight tensors)\n",
    );
    expect(r.stderr).toMatch(/^test\/corpus\/bad\/shape_linear_in\.moe:6:12: error: /);
  });

  it("the moec binary sets the process exit code", () => {
    const moec = (...args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", "cli/moec.ts", ...args], {
        encoding: "utf8",
      });
    const bad = moec("check", BAD);
    expect(bad.status, bad.stderr).toBe(EXIT.errors);
    expect(bad.stderr).toMatch(/shape_linear_in\.moe:6:12: error: /);
    const usage = moec("frobnicate");
    expect(usage.status).toBe(EXIT.usage);
    expect(usage.stderr).toBe("moec: unknown command 'frobnicate'\nRun 'moec --help' for usage.\n");
  }, 30_000);
});

describe("help", () => {
  it("--help lists every command with its summary and the exit codes", async () => {
    const r = await runMoec(["--help"]);
    for (const [name, command] of Object.entries(COMMANDS)) {
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +${escape(command.summary)}$`, "m"));
    }
    expect(r.stdout).toContain("Exit codes: 0 clean, 1 errors in the input, 2 bad usage.");
    expect(r.stderr).toBe("");
  });

  it("no arguments prints the same help, as a usage error", async () => {
    const [none, help] = [await runMoec([]), await runMoec(["--help"])];
    expect(none.stdout).toBe(help.stdout);
  });

  for (const [name, command] of Object.entries(COMMANDS)) {
    it(`moec ${name} --help shows its usage and every option`, async () => {
      const r = await runMoec([name, "--help"]);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stdout.startsWith(`moec ${name} `)).toBe(true);
      const options = Object.keys(command.options ?? {});
      expect(options.length).toBeGreaterThan(0);
      // One-letter options (-O0, -o DIR) are spelt with a single dash.
      for (const option of options) {
        const spelt = option.length === 1 ? `-${option}` : `--${option}`;
        expect(r.stdout, spelt).toContain(spelt);
      }
      // `-h` is the same.
      expect((await runMoec([name, "-h"])).stdout).toBe(r.stdout);
    });
  }
});

interface WeightJson {
  name: string;
  shape: number[];
  dtype: string;
}

async function paramsJson(...argv: string[]) {
  const r = await runMoec(["params", ...argv, "--json"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(EXIT.ok);
  return JSON.parse(r.stdout) as {
    model: string;
    hyperParameters: Record<string, unknown>;
    weights: WeightJson[];
    cost: { params: number };
  };
}

function byName(weights: WeightJson[]): Map<string, WeightJson> {
  return new Map(weights.map((w) => [w.name, w]));
}

/** `a.b.3.c.weight`: identifiers and indices joined by dots, ending in weight or bias. */
const WEIGHT_NAME =
  /^([A-Za-z_][A-Za-z0-9_]*|\d+)(\.([A-Za-z_][A-Za-z0-9_]*|\d+))*\.(weight|bias)$/;

describe("params --json: the weight-name contract", () => {
  it("SMoE: router [experts, dim] and per-expert SwiGLU weights in PyTorch layout", async () => {
    const json = await paramsJson("models/smoe.moe");
    expect(json.model).toBe("SMoELayer");
    expect(json.hyperParameters).toMatchObject({ dim: 768, experts: 8, top_k: 1, ffn: 2048 });
    const w = byName(json.weights);
    expect(w.get("moe.experts_bank.3.up.weight")).toEqual({
      name: "moe.experts_bank.3.up.weight",
      shape: [2048, 768],
      dtype: "f32",
    });
    expect(w.get("moe.router.weight")?.shape).toEqual([8, 768]);
    for (let e = 0; e < 8; e++) {
      expect(w.get(`moe.experts_bank.${e}.gate.weight`)?.shape).toEqual([2048, 768]);
      expect(w.get(`moe.experts_bank.${e}.up.weight`)?.shape).toEqual([2048, 768]);
      expect(w.get(`moe.experts_bank.${e}.down.weight`)?.shape).toEqual([768, 2048]);
    }
    expect(w.has("moe.experts_bank.8.up.weight")).toBe(false);
    expect(json.weights).toHaveLength(1 + 8 * 3);
  });

  it("plain (ungated) experts: fc1 and fc2 with bias", async () => {
    const json = await paramsJson("models/smoe.moe", "--set", "gated=false", "--set", "act=gelu");
    const w = byName(json.weights);
    expect(w.get("moe.experts_bank.5.fc1.weight")?.shape).toEqual([2048, 768]);
    expect(w.get("moe.experts_bank.5.fc1.bias")?.shape).toEqual([2048]);
    expect(w.get("moe.experts_bank.5.fc2.weight")?.shape).toEqual([768, 2048]);
    expect(w.get("moe.experts_bank.5.fc2.bias")?.shape).toEqual([768]);
    expect(json.weights).toHaveLength(1 + 8 * 4);
  });

  it("MH-MoE: head and merge Linear [out, in] with bias, experts of width dim / heads", async () => {
    const w = byName((await paramsJson("models/mh_moe.moe")).weights);
    expect(w.get("moe.head.weight")?.shape).toEqual([768, 768]);
    expect(w.get("moe.head.bias")?.shape).toEqual([768]);
    expect(w.get("moe.merge.weight")?.shape).toEqual([768, 768]);
    expect(w.get("moe.merge.bias")?.shape).toEqual([768]);
    expect(w.get("moe.router.weight")?.shape).toEqual([8, 192]);
    expect(w.get("moe.experts_bank.7.gate.weight")?.shape).toEqual([7936, 192]);
    expect(w.get("moe.experts_bank.7.down.weight")?.shape).toEqual([192, 7936]);
  });

  it("MH-MoE at parity: no bias on head and merge", async () => {
    const w = byName((await paramsJson("models/mh_moe_parity.moe")).weights);
    expect(w.get("moe.head.weight")?.shape).toEqual([768, 768]);
    expect(w.has("moe.head.bias")).toBe(false);
    expect(w.has("moe.merge.bias")).toBe(false);
    expect(w.get("moe.experts_bank.39.up.weight")?.shape).toEqual([768, 384]);
  });

  it("LM: repeated blocks are indexed, MoE in every second block", async () => {
    const json = await paramsJson("models/lm_smoe.moe");
    const w = byName(json.weights);
    expect(w.get("lm.embed.weight")?.shape).toEqual([512, 128]);
    expect(w.get("lm.blocks.0.attn_norm.weight")?.shape).toEqual([128]);
    for (const p of ["q_proj", "k_proj", "v_proj", "o_proj"])
      expect(w.get(`lm.blocks.2.attn.${p}.weight`)?.shape).toEqual([128, 128]);
    expect(w.get("lm.blocks.0.ffn.gate.weight")?.shape).toEqual([512, 128]);
    expect(w.get("lm.blocks.1.ffn.router.weight")?.shape).toEqual([8, 128]);
    expect(w.get("lm.blocks.3.ffn.experts_bank.5.down.weight")?.shape).toEqual([128, 512]);
    expect(w.has("lm.blocks.0.ffn.router.weight")).toBe(false);
    expect(w.get("lm.norm.weight")?.shape).toEqual([128]);
    expect(w.get("lm.lm_head.weight")?.shape).toEqual([512, 128]);
    expect(w.has("lm.lm_head.bias")).toBe(false);
    const layers = await paramsJson("models/lm_smoe.moe", "--set", "layers=6");
    expect(byName(layers.weights).has("lm.blocks.5.ffn.experts_bank.0.up.weight")).toBe(true);
  });

  for (const model of [
    "smoe",
    "fine_grained",
    "mh_moe",
    "mh_moe_parity",
    "lm_smoe",
    "lm_fine_grained",
    "lm_mh_moe",
  ]) {
    it(`${model}: every weight has a unique well-formed name, a shape and dtype f32`, async () => {
      const json = await paramsJson(`models/${model}.moe`);
      const names = json.weights.map((w) => w.name);
      expect(new Set(names).size).toBe(names.length);
      for (const weight of json.weights) {
        expect(weight.name).toMatch(WEIGHT_NAME);
        expect(weight.dtype).toBe("f32");
        expect(weight.shape.length).toBeGreaterThanOrEqual(1);
        for (const d of weight.shape) expect(Number.isInteger(d) && d >= 1).toBe(true);
        // Biases and norms are vectors, everything else [out, in].
        expect(weight.shape.length).toBe(
          weight.name.endsWith(".bias") || /norm\.weight$/.test(weight.name) ? 1 : 2,
        );
      }
      // The listed weights are all the model's parameters.
      const total = json.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
      expect(total).toBe(json.cost.params);
    });
  }

  it("two files with --json: both costs and the verdict", async () => {
    const r = await runMoec(["params", "models/smoe.moe", "models/mh_moe.moe", "--json"]);
    expect(r.code).toBe(EXIT.ok);
    const json = JSON.parse(r.stdout) as {
      a: { name: string };
      b: { name: string };
      atParity: boolean;
    };
    expect([json.a.name, json.b.name, json.atParity]).toEqual(["SMoELayer", "MHMoELayer", false]);
  });
});

describe("--set with two files", () => {
  // With two files, --set overrides A and --set-b overrides B: the paper's h = 3 variant of
  // mh_moe_parity.moe (its header comment shows the command) against the SMoE.
  it("the h = 3 variant of MH-MoE at parity can be compared with the SMoE", async () => {
    const sets = ["heads=3", "experts=96", "ffn=512", "top_k=3"].flatMap((s) => ["--set-b", s]);
    const r = await runMoec(["params", "models/smoe.moe", "models/mh_moe_parity.moe", ...sets]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^at parity/m);
    expect(r.stdout).toContain("+3.13%");
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
