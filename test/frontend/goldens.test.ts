// Golden dumps of the shipped models: the AST (`moec graph F --stage ast`), the lowered IR
// (`--stage ir`) and the cost tables (`moec params`), including the parity comparisons of
// design.md section 4. Regenerate with `npm run test:update` and review the diff.
import { readdirSync } from "node:fs";
import { describe, expect } from "vitest";
import { compareCosts, modelCost } from "../../compiler/costs.js";
import { compileToIR } from "../../compiler/index.js";
import { nodeHost } from "../../compiler/node/host.js";
import { assertRepoRoot, GoldenDir, runMoec } from "../helpers/golden.js";

assertRepoRoot();

const MODELS = readdirSync("models")
  .filter((f) => f.endsWith(".moe"))
  .map((f) => f.slice(0, -".moe".length))
  .sort();
const LIBRARY = readdirSync("models/std")
  .filter((f) => f.endsWith(".moe"))
  .map((f) => f.slice(0, -".moe".length))
  .sort();

/** stdout of a command that must succeed without a single diagnostic. */
async function clean(argv: string[]): Promise<string> {
  const r = await runMoec(argv);
  expect(r.stderr, `moec ${argv.join(" ")} printed diagnostics`).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

describe("AST goldens", () => {
  const ast = new GoldenDir("ast");
  for (const m of MODELS)
    ast.test(`${m}.txt`, () => clean(["graph", `models/${m}.moe`, "--stage", "ast"]));
  for (const m of LIBRARY)
    ast.test(`std/${m}.txt`, () => clean(["graph", `models/std/${m}.moe`, "--stage", "ast"]));
  ast.checkOrphans();
});

describe("IR goldens", () => {
  const ir = new GoldenDir("ir");
  for (const m of MODELS)
    ir.test(`${m}.txt`, () => clean(["graph", `models/${m}.moe`, "--stage", "ir"]));
  ir.checkOrphans();
});

describe("params goldens", () => {
  const params = new GoldenDir("params");
  for (const m of MODELS) params.test(`${m}.txt`, () => clean(["params", `models/${m}.moe`]));

  // The comparisons of design.md section 4: three at parity with the SMoE, one (the NeurIPS
  // form of MH-MoE, which matches parameters but not FLOPs) not.
  const pairs: [string, string][] = [
    ["smoe", "fine_grained"],
    ["smoe", "mh_moe_parity"],
    ["smoe", "mh_moe"],
  ];
  for (const [a, b] of pairs)
    params.test(`${a}_vs_${b}.txt`, () => clean(["params", `models/${a}.moe`, `models/${b}.moe`]));

  // The paper's h = 3 variant. `moec params A B --set ...` applies the overrides to both files
  // and the SMoE has no `heads` (see cli.test.ts), so this comparison goes through the API.
  params.test("smoe_vs_mh_moe_parity_h3.txt", () => {
    const h3 = ["heads=3", "experts=96", "ffn=512", "top_k=3"];
    const a = compileToIR("models/smoe.moe", nodeHost);
    const b = compileToIR("models/mh_moe_parity.moe", nodeHost, { overrides: h3 });
    expect([...a.diagnostics, ...b.diagnostics]).toEqual([]);
    const report = compareCosts(modelCost(a.graph!), modelCost(b.graph!));
    expect(report.atParity).toBe(true);
    return [
      "A = models/smoe.moe",
      `B = models/mh_moe_parity.moe ${h3.map((s) => `--set ${s}`).join(" ")}`,
      "",
      ...report.lines,
      "",
    ].join("\n");
  });
  params.checkOrphans();
});
