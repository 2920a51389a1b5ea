// The playground's Text tab in headless Chromium (WebGPU on SwiftShader): the tiny Mixtral
// checkpoint saved by Hugging Face transformers (test/fixtures/hf/mixtral), picked through the
// folder input, writes the same 24 greedy tokens as transformers did, streaming them in with
// prefill and decode tokens/s; the per-token routing view shows, for each generated token, the
// experts transformers chose (reference.json's sequence_experts). A folder without config.json,
// an unsupported architecture and a tokenizer larger than the model's vocabulary give readable
// messages. Screenshots go to test/artifacts/text-*.png.
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import type { PreviewServer } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ARTIFACTS,
  HAVE_CHROMIUM,
  ROOT,
  WAIT,
  buildPlayground,
  launchChromium,
  servePlayground,
} from "./chromium.js";

const FIXTURES = path.join(ROOT, "test/fixtures/hf");
const MIXTRAL = path.join(FIXTURES, "mixtral");

interface Reference {
  prompt: string;
  input_ids: number[];
  greedy: number[];
  greedy_text: string;
  /** Per MoE layer index, per consumed position (prompt, then greedy[:-1]), the k experts. */
  sequence_experts: Record<string, number[][]>;
}

const reference = JSON.parse(
  readFileSync(path.join(MIXTRAL, "reference.json"), "utf8"),
) as Reference;

/** Parameters in a safetensors file, read from its own header (8-byte length, then JSON). */
function safetensorsParameters(file: string): number {
  const bytes = readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString("utf8")) as Record<
    string,
    { shape?: number[] }
  >;
  return Object.entries(header)
    .filter(([name]) => name !== "__metadata__")
    .reduce((n, [, t]) => n + t.shape!.reduce((a, b) => a * b, 1), 0);
}

describe.skipIf(!HAVE_CHROMIUM)("playground Text tab in headless Chromium", () => {
  let outDir: string;
  let work: string;
  let server: PreviewServer;
  let base: string;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), "moec-text-"));
    work = mkdtempSync(path.join(tmpdir(), "moec-text-folders-"));
    await buildPlayground(outDir);
    ({ server, base } = await servePlayground(outDir));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push(msg.text());
    });
    page.on("pageerror", (err) => consoleErrors.push(`uncaught ${err.message}`));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.goto(`${base}index.html`);
    await page.waitForSelector("body[data-ready=true]");
    await page.click("#tab-text");
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    for (const dir of [outDir, work]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Picks `folder` in the folder input (or, with `asFiles`, its files in the files input);
   * resolves with the status once loading has ended.
   */
  async function pick(folder: string, asFiles = false): Promise<{ state: string; text: string }> {
    if (asFiles)
      await page.setInputFiles(
        "#text-files",
        readdirSync(folder).map((f) => path.join(folder, f)),
      );
    else await page.setInputFiles("#text-folder", folder);
    await page.waitForFunction(
      () => ["loaded", "error"].includes(document.getElementById("text-status")!.dataset.state!),
      undefined,
      WAIT,
    );
    return page.$eval("#text-status", (s) => ({ state: s.dataset.state!, text: s.textContent! }));
  }

  /** A copy of the Mixtral fixture folder, changed by `edit`, under `name`. */
  function variant(name: string, edit: (dir: string) => void): string {
    const dir = path.join(work, name);
    mkdirSync(dir);
    for (const f of readdirSync(MIXTRAL)) copyFileSync(path.join(MIXTRAL, f), path.join(dir, f));
    edit(dir);
    return dir;
  }

  it("loads the Mixtral folder and shows what it is", async () => {
    const status = await pick(MIXTRAL);
    expect(status, status.text).toMatchObject({ state: "loaded" });
    const card = (await page.textContent("#text-model"))!;
    expect(card).toContain("mixtral");
    expect(card).toContain("MixtralForCausalLM");
    expect(card).toContain("3 layers");
    expect(card).toContain("3 MoE layers × 8 experts, top-2");
    const total = safetensorsParameters(path.join(MIXTRAL, "model.safetensors"));
    expect(card).toContain(`${(total / 1e3).toPrecision(3)} k parameters`);
    expect(await page.isDisabled("#text-generate")).toBe(false);
  }, 120_000);

  it("generates the reference's 24 greedy tokens, streamed, with tokens/s and each token's experts", async () => {
    await page.fill("#text-prompt", reference.prompt);
    await page.fill("#text-max-tokens", "24");
    await page.fill("#text-temperature", "0");
    await page.fill("#text-top-k", "");
    await page.fill("#text-top-p", "1");
    await page.fill("#text-seed", "0");
    // Every length the output text passes through: streaming shows it grow token by token.
    await page.evaluate(() => {
      const out = document.getElementById("text-output")!;
      const lengths: number[] = [];
      new MutationObserver(() => lengths.push(out.textContent!.length)).observe(out, {
        childList: true,
        subtree: true,
        characterData: true,
      });
      (window as unknown as { textLengths: number[] }).textLengths = lengths;
    });
    await page.click("#text-generate");
    expect(await page.isDisabled("#text-generate")).toBe(true);
    await page.waitForFunction(
      () => ["done", "error"].includes(document.getElementById("text-status")!.dataset.state!),
      undefined,
      WAIT,
    );
    const status = (await page.textContent("#text-status"))!;
    expect(await page.getAttribute("#text-status", "data-state"), status).toBe("done");
    expect(await page.isDisabled("#text-generate")).toBe(false);

    // The text: the prompt, then transformers' greedy continuation, decoded as it decodes it.
    expect(await page.textContent("#text-output")).toBe(reference.prompt + reference.greedy_text);
    expect(await page.textContent("#text-output .text-prompt")).toBe(reference.prompt);
    const lengths = await page.evaluate(
      () => (window as unknown as { textLengths: number[] }).textLengths,
    );
    expect(new Set(lengths).size, "distinct text lengths while streaming").toBeGreaterThan(10);

    // Speeds of both phases.
    const prefill = await page.textContent('#text-status [data-kind="prefill"]');
    const decode = await page.textContent('#text-status [data-kind="decode"]');
    expect(prefill).toMatch(/^\d+\.\d tokens\/s prefill \(17 tokens\)$/);
    expect(decode).toMatch(/^\d+\.\d tokens\/s decode \(23 tokens\)$/);
    expect(reference.input_ids.length).toBe(17);

    // One chip per generated token, in order.
    const chips = await page.$$eval("#text-routing .text-chip", (cs) =>
      cs.map((c) => ({
        id: Number((c as HTMLElement).dataset.id),
        experts: (c as HTMLElement).dataset.experts,
      })),
    );
    expect(chips.map((c) => c.id)).toEqual(reference.greedy);

    // The grid's rows are the three MoE layers, in order.
    const scopes = await page.$$eval("#text-routing .text-grid .row-label", (ls) =>
      ls.map((l) => l.getAttribute("title")),
    );
    expect(scopes).toEqual([0, 1, 2].map((l) => `model.layers.${l}.block_sparse_moe.gate`));
    // Generated token i is consumed at position prompt + i; the last one never is.
    const expected = (i: number) =>
      [0, 1, 2].map((l) =>
        [...reference.sequence_experts[String(l)]![reference.input_ids.length + i]!].sort(
          (a, b) => a - b,
        ),
      );
    chips.slice(0, -1).forEach((c, i) => {
      const shown = c.experts!.split(";").map((s) => s.split(",").map(Number));
      expect(shown, `token ${i}`).toEqual(expected(i));
    });
    expect(chips.at(-1)!.experts).toBeUndefined();
    expect(await page.getAttribute("#text-routing .text-chip:last-child", "class")).toMatch(
      /unrouted/,
    );

    // With no token chosen, the grid counts every routed token: 23 tokens x top-2 per layer.
    const counted = await page.$$eval("#text-routing .text-grid .cell", (cells) =>
      cells.reduce((n, c) => n + Number(c.textContent || 0), 0),
    );
    expect(counted).toBe(23 * 2 * 3);
    await page.screenshot({ path: path.join(ARTIFACTS, "text-generated.png"), fullPage: true });

    // Hovering token 5 shows its experts in the grid.
    const usedCells = () =>
      page.$$eval('#text-routing .text-grid .cell[data-used="true"]', (cells) =>
        cells.map((c) => [
          Number((c as HTMLElement).dataset.site),
          Number((c as HTMLElement).dataset.expert),
        ]),
      );
    const asSites = (cells: number[][]) =>
      [0, 1, 2].map((s) => cells.filter(([site]) => site === s).map(([, e]) => e!));
    await page.hover('#text-routing .text-chip[data-index="5"]');
    expect(await page.getAttribute("#text-routing .text-grid", "data-token")).toBe("5");
    expect(asSites(await usedCells())).toEqual(expected(5));
    expect(await page.textContent("#text-routing .text-grid-caption")).toMatch(/^Token 5 /);
    await page
      .locator("#text-routing")
      .screenshot({ path: path.join(ARTIFACTS, "text-routing-hover.png") });

    // A click pins token 11: it stays when the pointer leaves.
    await page.click('#text-routing .text-chip[data-index="11"]');
    await page.mouse.move(5, 5);
    expect(await page.getAttribute("#text-routing .text-grid", "data-token")).toBe("11");
    expect(asSites(await usedCells())).toEqual(expected(11));
  }, 180_000);

  it("looks right on a phone (screenshot)", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, "horizontal overflow").toBeLessThanOrEqual(0);
      await page.locator("#panel-text").scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, "text-phone.png"), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1400, height: 1100 });
    }
  }, 60_000);

  it("stops a long generation when Stop is pressed, and refuses an empty prompt", async () => {
    await page.fill("#text-max-tokens", "200");
    // Stop as soon as the first token shows (in the page, so no token races past the click).
    await page.evaluate(() => {
      const routing = document.getElementById("text-routing")!;
      const observer = new MutationObserver(() => {
        if (!routing.querySelector(".text-chip")) return;
        observer.disconnect();
        document.getElementById("text-stop")!.click();
      });
      observer.observe(routing, { childList: true, subtree: true });
    });
    await page.click("#text-generate");
    await page.waitForFunction(
      () => ["done", "error"].includes(document.getElementById("text-status")!.dataset.state!),
      undefined,
      WAIT,
    );
    const status = (await page.textContent("#text-status"))!;
    expect(status).toMatch(/^stopped after \d+ tokens? \(\d+\.\d tokens\/s overall\)$/);
    const n = Number(/after (\d+)/.exec(status)![1]);
    expect(await page.locator("#text-routing .text-chip").count()).toBe(n);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(3);
    // The text so far is the greedy continuation's start.
    const text = (await page.textContent("#text-output"))!;
    expect((reference.prompt + reference.greedy_text).startsWith(text.slice(0, 40))).toBe(true);
    await page.hover('#text-routing .text-chip[data-index="0"]');
    expect(await page.textContent("#text-routing .text-grid-caption")).toMatch(
      /the run was stopped before its experts were read back/,
    );

    await page.fill("#text-prompt", "");
    await page.click("#text-generate");
    await page.waitForFunction(
      () => document.getElementById("text-status")!.dataset.state === "error",
      undefined,
      WAIT,
    );
    expect(await page.textContent("#text-status")).toBe(
      "The prompt is empty: type some text first.",
    );
  }, 120_000);

  // A sharded checkpoint picked as files, and DeepSeek-V3 (MLA, grouped sigmoid routing).
  for (const [name, asFiles] of [
    ["qwen2_moe", true],
    ["deepseek_v3", false],
  ] as const) {
    it(`generates ${name}'s greedy continuation (${asFiles ? "its files picked" : "its folder picked"})`, async () => {
      const folder = path.join(FIXTURES, name);
      const ref = JSON.parse(
        readFileSync(path.join(folder, "reference.json"), "utf8"),
      ) as Reference;
      const status = await pick(folder, asFiles);
      expect(status, status.text).toMatchObject({ state: "loaded" });
      const config = JSON.parse(readFileSync(path.join(folder, "config.json"), "utf8")) as {
        architectures: string[];
      };
      expect(await page.textContent("#text-model .text-card-title")).toBe(
        asFiles ? config.architectures[0] : `${name}${config.architectures[0]}`,
      );
      await page.fill("#text-prompt", ref.prompt);
      await page.fill("#text-max-tokens", "24");
      await page.click("#text-generate");
      await page.waitForFunction(
        () => ["done", "error"].includes(document.getElementById("text-status")!.dataset.state!),
        undefined,
        WAIT,
      );
      expect(await page.textContent("#text-status")).toMatch(/tokens\/s decode \(23 tokens\)/);
      expect(await page.textContent("#text-output")).toBe(ref.prompt + ref.greedy_text);
      const ids = await page.$$eval("#text-routing .text-chip", (cs) =>
        cs.map((c) => Number((c as HTMLElement).dataset.id)),
      );
      expect(ids).toEqual(ref.greedy);
      // Each generated token's experts (but the last's), per MoE layer, as transformers chose.
      const scopes = await page.$$eval("#text-routing .text-grid .row-label", (ls) =>
        ls.map((l) => l.getAttribute("title")!),
      );
      const layers = scopes.map((s) => /\.layers\.(\d+)\./.exec(s)![1]!);
      expect(layers).toEqual(Object.keys(ref.sequence_experts));
      const shown = await page.$$eval("#text-routing .text-chip", (cs) =>
        cs.map((c) => (c as HTMLElement).dataset.experts),
      );
      shown.slice(0, -1).forEach((experts, i) => {
        const want = layers.map((l) =>
          [...ref.sequence_experts[l]![ref.input_ids.length + i]!].sort((a, b) => a - b).join(","),
        );
        expect(experts, `${name} token ${i}`).toBe(want.join(";"));
      });
    }, 120_000);
  }

  it("says what is wrong with a folder it cannot use", async () => {
    const noConfig = variant("no-config", (dir) => rmSync(path.join(dir, "config.json")));
    let status = await pick(noConfig);
    expect(status.state).toBe("error");
    expect(status.text).toMatch(/^no-config: no config\.json\. Pick a Hugging Face model folder/);
    expect(await page.isDisabled("#text-generate")).toBe(true);
    expect(await page.textContent("#text-model")).toBe("");
    expect(await page.textContent("#text-output")).toBe("");
    await page.screenshot({ path: path.join(ARTIFACTS, "text-error.png") });

    const llama = variant("llama", (dir) => {
      const file = path.join(dir, "config.json");
      const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...config, model_type: "llama" }));
    });
    status = await pick(llama);
    expect(status.state).toBe("error");
    expect(status.text).toMatch(
      /^llama\/config\.json: model_type "llama" is not supported; supported: /,
    );

    // The tokenizer has 384 ids; a model of 300 rows cannot take them.
    const small = variant("small-vocab", (dir) => {
      const file = path.join(dir, "config.json");
      const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...config, vocab_size: 300 }));
    });
    status = await pick(small);
    expect(status.state).toBe("error");
    expect(status.text).toMatch(
      /small-vocab\/tokenizer\.json: token ids go up to 383, but the model's vocabulary has only 300 rows/,
    );

    // And the good folder loads again after the failures.
    status = await pick(MIXTRAL);
    expect(status.state).toBe("loaded");
  }, 120_000);

  it("logged no console errors", () => {
    expect(consoleErrors).toEqual([]);
  });
});
