// The browser playground in real headless Chromium (Debian's chromium, WebGPU on SwiftShader),
// driven by playwright-core: the page compiles and runs the shipped layer models and its outputs
// and its per-token routing view match the Node runtime (Dawn) on the same plan, weights and
// inputs; typing a broken spec into the editor shows lint markers; completion, hover and the
// graph view work; the Train tab trains a tiny language model (the loss falls, the activation
// heatmap fills, Stop stops) and refuses a non-LM spec; screenshots at 1280 px and at phone size go to test/artifacts/; the
// precompiled page runs a plan.json without the compiler; no console errors.
// Skipped only when Chromium is missing (scripts/install-browser.sh installs it).
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import type { PreviewServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileGraph } from "../../compiler/compile.js";
import { compileToIR } from "../../compiler/index.js";
import type { Plan } from "../../compiler/plan.js";
import { memoryHost } from "../../compiler/sources.js";
import { formatDiagnostic } from "../../grammar/diagnostics.js";
import type { MoecDevice } from "../../runtime/device.js";
import { createNodeDevice } from "../../runtime/node/dawn.js";
import { countRoutes, routeValueIds, tokenRoutes } from "../../runtime/routes.js";
import { type RunResult, Session } from "../../runtime/session.js";
import { writeSafetensors } from "../../runtime/safetensors.js";
import { initWeights } from "../../runtime/weights.js";
import type { HookRun } from "../../examples/playground/src/hook.js";
import { makeInputs } from "../../examples/playground/src/inputs.js";
import { SMALL_LAYER, SMALL_PARITY } from "../../models/small.js";
import { routeValues } from "../../examples/playground/src/routeValues.js";
import {
  ARTIFACTS,
  CHROMIUM,
  HAVE_CHROMIUM,
  ROOT,
  WAIT,
  buildPlayground,
  launchChromium,
  servePlayground,
} from "./chromium.js";

const SEED = 1;
const INPUT_SEED = 5;
const TOKENS = 13;
const LAYER = SMALL_LAYER.join(" ");
const MODELS = [
  { file: "models/smoe.moe", overrides: LAYER, level: 2 },
  { file: "models/fine_grained.moe", overrides: `${LAYER} shared=1`, level: 2 },
  { file: "models/mh_moe.moe", overrides: LAYER, level: 2 },
  { file: "models/mh_moe_parity.moe", overrides: SMALL_PARITY.join(" "), level: 2 },
  { file: "models/smoe.moe", overrides: LAYER, level: 0 },
] as const;

function moeFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".moe")) files[rel] = readFileSync(path.join(ROOT, rel), "utf8");
    }
  };
  walk("models");
  return files;
}

/** The plan as the page makes it: same paths, same in-memory host, same overrides. */
function compileInNode(file: string, overrides: string, level: 0 | 2): Plan {
  const result = compileToIR(file, memoryHost(moeFiles()), {
    overrides: overrides.split(/\s+/).filter(Boolean),
  });
  if (!result.graph) {
    const text = result.diagnostics.map((d) => formatDiagnostic(d, result.program.texts));
    throw new Error(`${file} did not compile:\n${text.join("\n")}`);
  }
  // As the page does: the plan keeps the router's expert ids and gates for the routing view.
  return compileGraph(result.graph, {
    level,
    keep: (g) => routeValueIds(routeValues(g)),
  }).plan;
}

/** The routes the plan keeps, found as the page finds them. */
function routesInNode(file: string, overrides: string, level: 0 | 2) {
  const result = compileToIR(file, memoryHost(moeFiles()), {
    overrides: overrides.split(/\s+/).filter(Boolean),
  });
  return routeValues(compileGraph(result.graph!, { level }).graph);
}

function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

/** Rel. L2 of every compared output, printed at the end. */
const errors: string[] = [];

function expectSameRun(page: HookRun, node: RunResult, what: string): void {
  expect(page.error, `${what}: page error`).toBeUndefined();
  const outputs = page.outputs!;
  expect(Object.keys(outputs).sort()).toEqual([...node.outputs.keys()].sort());
  for (const [name, expected] of node.outputs) {
    const actual = outputs[name]!;
    expect(actual.shape, `${what} ${name} shape`).toEqual([...expected.shape]);
    expect(actual.data.every(Number.isFinite), `${what} ${name} finite`).toBe(true);
    const error = relL2(actual.data, expected.data);
    errors.push(`${what} ${name}: ${error.toExponential(2)}`);
    expect(error, `${what} ${name} rel L2`).toBeLessThan(1e-5);
  }
  expect(page.routing!.length).toBe(node.routing.length);
  node.routing.forEach((stats, i) => {
    const got = page.routing![i]!;
    expect(got.counts, `${what} ${stats.scope} counts`).toEqual(stats.counts);
    expect(got.activeExperts).toBe(stats.activeExperts);
    expect(Math.abs(got.auxLoss - stats.auxLoss)).toBeLessThan(1e-5 * Math.max(1, stats.auxLoss));
  });
}

describe.skipIf(!HAVE_CHROMIUM)("playground in headless Chromium (WebGPU on SwiftShader)", () => {
  let outDir: string;
  let server: PreviewServer;
  let base: string;
  let browser: Browser;
  let page: Page;
  let dawn: MoecDevice;
  const consoleErrors: string[] = [];
  const started = Date.now();

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), "moec-playground-"));
    await buildPlayground(outDir);
    // Precompiled plans, as `moec compile` writes them, served beside the pages.
    mkdirSync(path.join(outDir, "plans"));
    for (const m of MODELS) {
      const plan = compileInNode(m.file, m.overrides, m.level);
      writeFileSync(
        path.join(outDir, "plans", `${path.basename(m.file, ".moe")}-O${m.level}.json`),
        JSON.stringify(plan),
      );
    }
    ({ server, base } = await servePlayground(outDir));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => consoleErrors.push(`${page.url()}: uncaught ${err.message}`));
    dawn = await createNodeDevice();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    dawn?.device.destroy();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
    console.log(
      `browser tests took ${((Date.now() - started) / 1000).toFixed(1)} s; page vs Dawn rel L2:\n  ${errors.join("\n  ")}`,
    );
  });

  async function nodeRun(plan: Plan, seed = SEED, values: number[] = []): Promise<RunResult> {
    const session = await Session.create(dawn.device, plan, initWeights(plan, seed));
    try {
      return await session.run(makeInputs(plan, TOKENS, INPUT_SEED), { values });
    } finally {
      session.destroy();
    }
  }

  /** The playground page, opened unless it is the current one (each test can run alone). */
  async function playground(): Promise<Page> {
    if (!page.url().endsWith("/index.html")) {
      await page.goto(`${base}index.html`);
      await page.waitForSelector("body[data-ready=true]");
    }
    return page;
  }

  it("opens the playground with a WebGPU adapter", async () => {
    await playground();
    expect(await page.evaluate(() => window.moecPlayground!.hasWebGpu)).toBe(true);
    expect(await page.isHidden("#no-webgpu")).toBe(true);
    const models = await page.evaluate(() => window.moecPlayground!.models);
    expect(models).toEqual(expect.arrayContaining(MODELS.map((m) => m.file)));
    // The shipped model checks clean as loaded.
    await expect.poll(() => page.textContent("#check-status"), WAIT).toMatch(/✓/);
    expect(await page.locator("#diagnostics li").count()).toBe(0);
  }, 120_000);

  for (const m of MODELS) {
    it(`compiles and runs ${m.file} ${m.overrides} -O${m.level} like Dawn in Node`, async () => {
      await playground();
      const result: HookRun = await page.evaluate((opts) => window.moecPlayground!.run(opts), {
        model: m.file,
        overrides: m.overrides,
        level: m.level,
        seed: SEED,
        tokens: TOKENS,
        inputSeed: INPUT_SEED,
      });
      expect(result.error, result.diagnostics?.join("\n")).toBeUndefined();
      expect(result.adapter).toMatch(/swiftshader/i);
      const plan = compileInNode(m.file, m.overrides, m.level);
      // The compiler is deterministic across Node and the browser.
      expect(result.plan).toBe(JSON.stringify(plan));
      const routes = routesInNode(m.file, m.overrides, m.level);
      const node = await nodeRun(plan, SEED, routeValueIds(routes));
      expectSameRun(result, node, m.file);
      // The page shows what it ran: outputs, a heatmap row per MoE layer, the IR panes.
      expect(await page.textContent("#outputs")).toContain(`[${TOKENS}, 32]`);
      const rows = await page.getAttribute("#routing .heatmap", "data-rows");
      expect(Number(rows)).toBe(result.routing!.length);
      expect(await page.textContent("#ir-before")).toMatch(/^graph /);
      // The per-token routing view: what its cells show, counted per head and expert, is what
      // the Node runtime's statistics count for the same run; the gates match Dawn's.
      const cells = await page.$$eval("#token-routes td[data-experts]", (tds) =>
        tds.map((td) => ({
          site: Number(td.dataset.site),
          token: Number(td.dataset.token),
          head: Number(td.dataset.head),
          experts: td.dataset.experts!.split(",").map(Number),
          gates: td.dataset.gates!.split(",").map(Number),
        })),
      );
      const expected = tokenRoutes(node, routes);
      expect(expected.length).toBe(node.routing.length);
      expected.forEach((r, site) => {
        const shown = cells.filter((c) => c.site === site);
        expect(shown.length, `${r.scope} cells`).toBe(TOKENS * r.heads);
        const counts = Array.from({ length: r.heads }, () => new Array<number>(r.experts).fill(0));
        for (const c of shown) for (const e of c.experts) counts[c.head]![e]!++;
        // Dropless models: every choice is kept, so the view counts what the statistics count.
        expect(counts, `${m.file} ${r.scope} routing view vs statistics`).toEqual(
          node.routing[site]!.counts,
        );
        expect(countRoutes(r)).toEqual(node.routing[site]!.counts);
        for (const c of shown) {
          const base = (c.token * r.heads + c.head) * r.topK;
          expect(c.experts).toEqual(Array.from(r.expert.subarray(base, base + r.topK)));
          c.gates.forEach((g, j) => expect(Math.abs(g - r.gate[base + j]!)).toBeLessThan(1e-5));
        }
      });
      if (m.file === "models/mh_moe.moe") {
        // Head x expert map for MH-MoE.
        expect(await page.locator('#routing .heatmap[data-title$="head × expert"]').count()).toBe(
          1,
        );
      }
    }, 60_000);
  }

  it("runs with weights from a safetensors file the user picks", async () => {
    await playground();
    const m = MODELS[3]; // mh_moe_parity: gated experts, no biases
    const plan = compileInNode(m.file, m.overrides, m.level);
    // As a PyTorch state_dict exports them: one tensor per expert (`bank.3.up.weight`).
    const tensors = [...initWeights(plan, 7)].flatMap(([name, data]) => {
      const buffer = plan.buffers.find((b) => b.kind === "weight" && b.name === name);
      const shape = buffer?.kind === "weight" ? [...buffer.shape] : [];
      if (!name.includes("{e}")) return [{ name, dtype: "F32" as const, shape, data }];
      const [experts, ...slice] = shape;
      const size = slice.reduce((a, b) => a * b, 1);
      return Array.from({ length: experts! }, (_, e) => ({
        name: name.replace("{e}", String(e)),
        dtype: "F32" as const,
        shape: slice,
        data: data.subarray(e * size, (e + 1) * size),
      }));
    });
    expect(tensors.some((t) => /\.3\./.test(t.name))).toBe(true);
    const file = path.join(outDir, "weights.safetensors");
    writeFileSync(file, writeSafetensors(tensors));
    await page.setInputFiles("#weights-file", file);
    expect(await page.isChecked('input[name="weights"][value="safetensors"]')).toBe(true);
    const result: HookRun = await page.evaluate((opts) => window.moecPlayground!.run(opts), {
      model: m.file,
      overrides: m.overrides,
      level: m.level,
      tokens: TOKENS,
      inputSeed: INPUT_SEED,
    });
    expect(result.warnings).toEqual([]);
    expectSameRun(result, await nodeRun(plan, 7), `${m.file} safetensors`);
    // Back to seeded weights for the tests that follow.
    await page.check('input[name="weights"][value="seeded"]');
  }, 60_000);

  it("marks a spec the user types wrong in the editor, and marks old results stale", async () => {
    await playground();
    await page.evaluate(() => window.moecPlayground!.run({ model: "models/smoe.moe" }));
    expect(await page.isHidden("#stale")).toBe(true);
    const source = await page.evaluate(() => window.moecPlayground!.source());
    const lines = source.split("\n");
    const at = lines.findIndex((l) => l.includes("moe = SMoE("));
    expect(at).toBeGreaterThan(0);
    // Type into CodeMirror as a user would: caret after "SMoE", one key.
    const column = lines[at]!.indexOf("SMoE(") + "SMoE".length + 1;
    await page.evaluate(([l, c]) => window.moecPlayground!.placeCursor(l!, c!), [at + 1, column]);
    await page.keyboard.type("E");
    expect(await page.evaluate(() => window.moecPlayground!.source())).toContain("SMoEE(");
    const item = page.locator("#diagnostics li.error").first();
    await item.waitFor(WAIT);
    expect(await item.textContent()).toMatch(
      new RegExp(`models/smoe\\.moe:${at + 1}:\\d+: error: .*SMoEE`),
    );
    // The lint marker: the name underlined in the text, a marker in the gutter.
    await expect.poll(() => page.locator(".cm-lintRange-error").count(), WAIT).toBeGreaterThan(0);
    expect(await page.locator(".cm-lintRange-error").first().textContent()).toContain("SMoEE");
    expect(await page.locator(".cm-lint-marker-error").count()).toBe(1);
    expect(await page.textContent("#check-status")).toMatch(/1 error/);
    // What the last run showed now belongs to an older spec.
    expect(await page.isVisible("#stale")).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, "playground-diagnostics.png") });
    // Running it reports the errors instead of running, and clears the old results.
    const result: HookRun = await page.evaluate(() =>
      window.moecPlayground!.run({ source: window.moecPlayground!.source() }),
    );
    expect(result.error).toMatch(/errors/);
    expect(result.diagnostics!.join("\n")).toContain("SMoEE");
    expect(await page.locator("#routing .heatmap").count()).toBe(0);
    expect(await page.isHidden("#stale")).toBe(true);
    // A bad override is a diagnostic too, not an exception.
    const bad = await page.evaluate(() =>
      window.moecPlayground!.check({ model: "models/smoe.moe", overrides: "dim=33 heads=" }),
    );
    expect(bad.length).toBeGreaterThan(0);
  }, 120_000);

  it("completes built-in layers and their arguments, and shows shapes and costs on hover", async () => {
    await playground();
    await page.evaluate(() => window.moecPlayground!.check({ model: "models/smoe.moe" }));
    const lines = (await page.evaluate(() => window.moecPlayground!.source())).split("\n");
    const at = lines.findIndex((l) => l.includes("moe = SMoE("));
    // A new line after the binding: typing "Rou" offers the built-in Router.
    await page.evaluate(
      ([l, c]) => window.moecPlayground!.placeCursor(l!, c!),
      [at + 1, lines[at]!.length + 1],
    );
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("g = Rou");
    const popup = page.locator(".cm-tooltip-autocomplete");
    const selected = popup.locator('li[aria-selected="true"]');
    // Enter takes the highlighted option once completion has caught up with the typing.
    const accept = async (label: string) => {
      await expect.poll(() => selected.textContent(), WAIT).toContain(label);
      // CodeMirror ignores Enter for 75 ms after the list changes (interactionDelay).
      await page.waitForTimeout(250);
      await page.keyboard.press("Enter");
    };
    await accept("Router");
    // Inside Router( the arguments complete, with their types.
    await page.keyboard.type("to");
    // Ctrl+Space asks for completion outright, should typing not have opened it yet.
    await page.keyboard.press("Control+Space");
    await expect.poll(() => popup.textContent(), WAIT).toContain("top_k =");
    await page.keyboard.press("Escape");
    // The library's layers (models/std) complete too, and so do their arguments.
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("h = MHM");
    await accept("MHMoE");
    await page.keyboard.type("hea");
    // Ctrl+Space asks for completion outright, should typing not have opened it yet.
    await page.keyboard.press("Control+Space");
    await expect.poll(() => popup.textContent(), WAIT).toContain("heads =");
    await page.keyboard.press("Escape");
    // Hover over the instance name in `return moe(x)`: output shape, parameters, FLOPs.
    await page.evaluate(() => window.moecPlayground!.check({ model: "models/smoe.moe" }));
    // The highlighter puts each token in its own span.
    const word = page
      .locator(".cm-line", { hasText: "return moe(x)" })
      .getByText("moe", { exact: true })
      .first();
    const box = (await word.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const tip = page.locator(".moe-hover");
    await tip.waitFor(WAIT);
    const hover = (await tip.textContent())!;
    expect(hover).toContain("moe");
    expect(hover).toMatch(/f32\[T, 32\]/);
    expect(hover).toMatch(/parameters, .* FLOPs per token/);
    await page.screenshot({ path: path.join(ARTIFACTS, "playground-hover.png") });
    await page.mouse.move(0, 0);
  }, 120_000);

  it("draws the graph before and after optimisation", async () => {
    await playground();
    await page.evaluate(
      (overrides) => window.moecPlayground!.run({ model: "models/mh_moe.moe", overrides }),
      LAYER,
    );
    await page.click("#tab-graph");
    const svg = page.locator("#graph svg");
    await svg.waitFor(WAIT);
    const after = await page.locator("#graph svg g.node").count();
    expect(await page.textContent("#graph svg")).toContain("moe_route");
    await page.click('label:has(input[name="graph-stage"][value="before"])');
    await expect.poll(() => page.textContent("#graph svg"), WAIT).toContain("route_stats");
    const before = await page.locator("#graph svg g.node").count();
    // Fusion leaves fewer nodes.
    expect(before).toBeGreaterThan(after);
    await page.screenshot({ path: path.join(ARTIFACTS, "playground-graph.png") });
  }, 120_000);

  it("trains a language model in the Train tab: the loss falls and the heatmap fills", async () => {
    const p = await playground();
    // A layer over vectors is refused with the reason, before anything runs.
    const refused = await p.evaluate(() =>
      window.moecPlayground!.train({ model: "models/smoe.moe", steps: 2 }),
    );
    expect(refused.error).toMatch(/not a language model/);
    expect(await p.locator("#train-status .train-refusal").textContent()).toMatch(/lm_\*\.moe/);
    // A tiny MH-MoE LM (one MoE layer of 2 heads x 4 experts), a few steps: SwiftShader is slow.
    const steps = 12;
    const out = await p.evaluate(
      (steps) =>
        window.moecPlayground!.train({
          model: "models/lm_mh_moe.moe",
          overrides: "dim=16 layers=2 experts=4 moe_ffn=32",
          steps,
          batch: 2,
          seq: 16,
          lr: 0.01,
        }),
      steps,
    );
    expect(out.error).toBeUndefined();
    expect(out.losses).toHaveLength(steps);
    expect(out.losses.every(Number.isFinite)).toBe(true);
    // From about ln 256 = 5.55 nats at random weights; the last steps' mean is clearly lower.
    expect(out.losses[0]!).toBeGreaterThan(4.5);
    const tail = out.losses.slice(-3).reduce((a, b) => a + b, 0) / 3;
    expect(tail).toBeLessThan(out.losses[0]! - 0.3);
    expect(out.tokensPerSecond).toBeGreaterThan(0);
    // Held-out perplexity below the 256 of a uniform guess over bytes.
    expect(out.perplexity).toBeGreaterThan(1);
    expect(out.perplexity).toBeLessThan(256);
    expect(Object.values(out.active)).toHaveLength(1);
    expect(Object.values(out.active)[0]).toBeGreaterThan(0);
    // One heatmap (the MoE layer): a cell per step, head and expert, some of them shaded.
    const maps = p.locator(".activation-map");
    expect(await maps.count()).toBe(1);
    const cells = maps.first().locator("rect.cell");
    expect(await cells.count()).toBe(steps * 2 * 4);
    const opacities = await cells.evaluateAll((rs) =>
      rs.map((r) => Number(r.getAttribute("fill-opacity"))),
    );
    expect(opacities.some((o) => o > 0)).toBe(true);
    expect(await p.locator("#train-status").textContent()).toMatch(
      /trained 12 steps \(-O2\): loss .*held-out perplexity/,
    );
    await p.setViewportSize({ width: 1280, height: 900 });
    await p.screenshot({ path: path.join(ARTIFACTS, "playground-train.png"), fullPage: true });
    await p.setViewportSize({ width: 1400, height: 1000 });
    // The buttons: Start runs the fields' settings, Stop ends the run after the step in flight.
    await p.fill("#train-steps", "200");
    await p.click("#train-start");
    await p.waitForFunction(
      () => /step 3\/200/.test(document.getElementById("train-status")!.textContent!),
      undefined,
      { timeout: 60_000 },
    );
    await p.click("#train-stop");
    await p.waitForFunction(
      () => /stopped after \d+ steps/.test(document.getElementById("train-status")!.textContent!),
      undefined,
      { timeout: 60_000 },
    );
    expect(await p.locator("#train-start").isDisabled()).toBe(false);
  }, 180_000);

  it("looks right at 1280 px and on a phone (screenshots in test/artifacts/)", async () => {
    const sizes = [
      { name: "wide", width: 1280, height: 900 },
      { name: "phone", width: 390, height: 844 },
    ];
    for (const size of sizes) {
      const view = await browser.newPage({ viewport: size });
      view.on("pageerror", (err) => consoleErrors.push(`${size.name}: uncaught ${err.message}`));
      try {
        await view.goto(`${base}index.html`);
        await view.waitForSelector("body[data-ready=true]");
        const result: HookRun = await view.evaluate((opts) => window.moecPlayground!.run(opts), {
          model: "models/mh_moe.moe",
          overrides: LAYER,
          seed: SEED,
          tokens: TOKENS,
          inputSeed: INPUT_SEED,
        });
        expect(result.error).toBeUndefined();
        // Nothing sticks out sideways: the page is as wide as the viewport.
        const overflow = await view.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        expect(overflow, `${size.name}: horizontal overflow`).toBeLessThanOrEqual(0);
        await view.screenshot({
          path: path.join(ARTIFACTS, `playground-${size.name}.png`),
          fullPage: size.name === "phone",
        });
        await view.click("#tab-tokens");
        await view.screenshot({
          path: path.join(ARTIFACTS, `playground-${size.name}-tokens.png`),
          fullPage: size.name === "phone",
        });
      } finally {
        await view.close();
      }
    }
  }, 90_000);

  it("runs a precompiled plan.json without the compiler", async () => {
    const m = MODELS[2]; // mh_moe
    const name = `${path.basename(m.file, ".moe")}-O${m.level}.json`;
    await page.goto(`${base}precompiled.html?plan=plans/${name}`);
    await page.waitForSelector("body[data-ready=true]");
    expect(await page.evaluate(() => window.moecPrecompiled!.initial())).toBe("MHMoELayer");
    const result: HookRun = await page.evaluate((opts) => window.moecPrecompiled!.run(opts), {
      seed: SEED,
      tokens: TOKENS,
      inputSeed: INPUT_SEED,
    });
    const plan = JSON.parse(readFileSync(path.join(outDir, "plans", name), "utf8")) as Plan;
    expectSameRun(result, await nodeRun(plan), `precompiled ${name}`);
    expect(await page.locator("#routing .heatmap").count()).toBe(2);
    await page.screenshot({ path: path.join(ARTIFACTS, "precompiled.png"), fullPage: true });
    // The page's script carries no parser or compiler.
    const scripts = readdirSync(path.join(outDir, "assets")).filter(
      (f) => f.startsWith("precompiled-") && f.endsWith(".js"),
    );
    for (const f of scripts) {
      const code = readFileSync(path.join(outDir, "assets", f), "utf8");
      expect(code).not.toMatch(/chevrotain|cannot find imported file|fuse-moe/);
    }
  }, 60_000);

  it("says so where the browser has no WebGPU, and still compiles", async () => {
    const context = await browser.newContext();
    const bare = await context.newPage();
    bare.on("pageerror", (err) => consoleErrors.push(`no-WebGPU page: uncaught ${err.message}`));
    await bare.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, "gpu", {
        get: () => undefined,
        configurable: true,
      });
    });
    try {
      await bare.goto(`${base}index.html`);
      await bare.waitForSelector("body[data-ready=true]");
      expect(await bare.isVisible("#no-webgpu")).toBe(true);
      expect(await bare.textContent("#no-webgpu")).toMatch(/no WebGPU/);
      expect(await bare.isDisabled("#run")).toBe(true);
      await bare.click("#compile");
      await expect.poll(() => bare.textContent("#status"), WAIT).toMatch(/compiled SMoELayer/);
      expect(await bare.textContent("#ir-after")).toMatch(/^graph /);
      const result = await bare.evaluate(() => window.moecPlayground!.run());
      expect(result.error).toMatch(/no WebGPU/);
      await bare.goto(`${base}precompiled.html`);
      await bare.waitForSelector("body[data-ready=true]");
      expect(await bare.isVisible("#no-webgpu")).toBe(true);
    } finally {
      await context.close();
    }
  }, 120_000);

  it("logged no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});

if (!HAVE_CHROMIUM) {
  console.warn(`test/browser: skipped, no Chromium at ${CHROMIUM}; run scripts/install-browser.sh`);
}
