// The precompiled page: loads a plan.json and runs it on navigator.gpu. It imports the runtime
// and the plan format (plan/), so the bundle carries no parser or compiler.
import type { Plan } from "../../../plan/format.js";
import { NO_WEBGPU, type WeightSource, hasWebGpu, plainRun, runPlan } from "./gpu.js";
import type { PrecompiledHook } from "./hook.js";
import { errorView, outputsView, routingView, timingsView } from "./render.js";

const $ = <T extends HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page is missing #${id}`);
  return node as T;
};

const ui = {
  controls: $<HTMLFormElement>("controls"),
  planFile: $<HTMLInputElement>("plan-file"),
  tokens: $<HTMLInputElement>("tokens"),
  inputSeed: $<HTMLInputElement>("input-seed"),
  weightSeed: $<HTMLInputElement>("weight-seed"),
  weightsFile: $<HTMLInputElement>("weights-file"),
  run: $<HTMLButtonElement>("run"),
  summary: $("plan-summary"),
  status: $("status"),
  results: $("results"),
  outputs: $("outputs"),
  timings: $("timings"),
  routing: $("routing"),
  noWebGpu: $("no-webgpu"),
};

let plan: Plan | undefined;

function fail(err: unknown): string {
  ui.status.replaceChildren(errorView(err));
  return err instanceof Error ? err.message : String(err);
}

/** Parses and minimally checks a plan; Session.create checks the rest (format, device). */
function usePlan(text: string, source: string): Plan {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source} is not JSON: ${(err as Error).message}`);
  }
  const p = parsed as Partial<Plan> | null;
  if (!p || typeof p !== "object" || !Array.isArray(p.kernels) || !Array.isArray(p.buffers)) {
    throw new Error(`${source} is not a moec plan (no kernels or buffers)`);
  }
  plan = p as Plan;
  const weights = plan.buffers.filter((b) => b.kind === "weight").length;
  ui.summary.textContent =
    `${source}: ${plan.name} (${String(plan.format)}), ${plan.kernels.length} kernels, ` +
    `${plan.shaders.length} shaders, ${weights} weight tensors; inputs ` +
    plan.inputs.map((i) => `${i.name}: ${i.dtype}`).join(", ") +
    `; outputs ${plan.outputs.map((o) => o.name).join(", ")}; ${plan.routing.length} MoE layers`;
  ui.run.disabled = !hasWebGpu();
  ui.status.replaceChildren();
  return plan;
}

async function loadUrl(url: string): Promise<Plan> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url}: ${response.status} ${response.statusText}`);
  return usePlan(await response.text(), url);
}

function weightSource(): WeightSource {
  if (new FormData(ui.controls).get("weights") === "safetensors") {
    const file = ui.weightsFile.files?.[0];
    if (!file) throw new Error("Pick a .safetensors file, or choose seeded random weights.");
    return { kind: "safetensors", file };
  }
  return { kind: "seeded", seed: Number(ui.weightSeed.value) || 0 };
}

async function run(warmRuns = 3) {
  if (!plan) throw new Error("load a plan first");
  ui.run.disabled = true;
  ui.status.className = "busy";
  ui.status.textContent = `running ${plan.name}…`;
  try {
    const result = await runPlan({
      plan,
      weights: weightSource(),
      tokens: Math.max(1, Math.floor(Number(ui.tokens.value) || 1)),
      inputSeed: Number(ui.inputSeed.value) || 0,
      warmRuns,
    });
    ui.results.hidden = false;
    ui.outputs.replaceChildren(outputsView(result));
    ui.timings.replaceChildren(timingsView(result));
    ui.routing.replaceChildren(routingView(result.result.routing));
    ui.status.className = "";
    ui.status.textContent =
      `ran ${plan.name}` + (result.warnings.length ? `; ${result.warnings.join("; ")}` : "");
    return plainRun(result);
  } finally {
    ui.run.disabled = false;
    if (ui.status.className === "busy") ui.status.className = "";
  }
}

ui.planFile.addEventListener("change", async () => {
  const file = ui.planFile.files?.[0];
  if (!file) return;
  try {
    usePlan(await file.text(), file.name);
  } catch (err) {
    fail(err);
  }
});
ui.weightsFile.addEventListener("change", () => {
  const radio = ui.controls.querySelector<HTMLInputElement>(
    'input[name="weights"][value="safetensors"]',
  );
  if (radio && ui.weightsFile.files?.length) radio.checked = true;
});
ui.controls.addEventListener("submit", (e) => {
  e.preventDefault();
  run().catch(fail);
});

if (!hasWebGpu()) {
  ui.noWebGpu.hidden = false;
  ui.noWebGpu.textContent = NO_WEBGPU;
}

const fromQuery = new URLSearchParams(location.search).get("plan");
const initial = fromQuery
  ? loadUrl(fromQuery).catch((err: unknown) => void fail(err))
  : Promise.resolve();

const hook: PrecompiledHook = {
  hasWebGpu: hasWebGpu(),
  /** The plan given by ?plan=URL, once loaded (undefined when none or it failed). */
  initial: () => initial.then(() => plan?.name),
  /** The loaded plan's name, if any (after the file picker or ?plan=). */
  planName: () => plan?.name,
  load: async (url: string) => (await loadUrl(url)).name,
  async run(opts: { seed?: number; tokens?: number; inputSeed?: number; warmRuns?: number } = {}) {
    if (opts.seed !== undefined) {
      ui.weightSeed.value = String(opts.seed);
      ui.controls.querySelector<HTMLInputElement>(
        'input[name="weights"][value="seeded"]',
      )!.checked = true;
    }
    if (opts.tokens !== undefined) ui.tokens.value = String(opts.tokens);
    if (opts.inputSeed !== undefined) ui.inputSeed.value = String(opts.inputSeed);
    try {
      return await run(opts.warmRuns ?? 0);
    } catch (err) {
      return { error: fail(err) };
    }
  },
};

window.moecPrecompiled = hook;
document.body.dataset.ready = "true";
