// The playground page: edit a .moe spec (diagnostics as you type), compile it in the page at
// -O0 or -O2, run it on navigator.gpu, and look at outputs, timings, expert activation and the
// IR before and after optimisation. window.moecPlayground drives the same code paths for tests.
import { printGraph } from "../../../compiler/ir/print.js";
import type { Plan } from "../../../compiler/plan.js";
import { type CompileRequest, type Compiled, check, compile, parseOverrides } from "./compile.js";
import type { Graph } from "../../../compiler/ir/graph.js";
import { Editor } from "./editor.js";
import { hoverAt } from "./hover.js";
import { definitionsIn } from "./moeLanguage.js";
import type { HookOptions, PlaygroundHook } from "./hook.js";
import {
  NO_WEBGPU,
  type PlainRun,
  type WeightSource,
  hasWebGpu,
  plainRun,
  runPlan,
} from "./gpu.js";
import { MODEL_FILES, SHIPPED_MODELS, smallOverrides } from "./models.js";
import { drawGraph } from "./graphView.js";
import { el, errorView, outputsView, routingView, timingsView } from "./render.js";
import { tokenRoutesView } from "./tokens.js";
import { setupTrainPanel } from "./trainPanel.js";
import { setupTextPanel } from "./textPanel.js";

const $ = <T extends HTMLElement>(id: string): T => {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page is missing #${id}`);
  return node as T;
};

const ui = {
  model: $<HTMLSelectElement>("model"),
  reset: $<HTMLButtonElement>("reset"),
  checkStatus: $("check-status"),
  diagnostics: $<HTMLUListElement>("diagnostics"),
  controls: $<HTMLFormElement>("controls"),
  overrides: $<HTMLInputElement>("overrides"),
  tokens: $<HTMLInputElement>("tokens"),
  inputSeed: $<HTMLInputElement>("input-seed"),
  weightSeed: $<HTMLInputElement>("weight-seed"),
  weightsFile: $<HTMLInputElement>("weights-file"),
  run: $<HTMLButtonElement>("run"),
  compile: $<HTMLButtonElement>("compile"),
  download: $<HTMLAnchorElement>("download-plan"),
  status: $("status"),
  results: $("results"),
  stale: $("stale"),
  progress: $("progress"),
  outputs: $("outputs"),
  timings: $("timings"),
  routing: $("routing"),
  tokenRoutes: $("token-routes"),
  graph: $("graph"),
  graphFit: $<HTMLInputElement>("graph-fit"),
  ir: $("ir"),
  irBefore: $("ir-before"),
  irAfter: $("ir-after"),
  irStage: $<HTMLSelectElement>("ir-stage"),
  noWebGpu: $("no-webgpu"),
};

/** Edited texts by path, so switching models keeps edits. */
const edits = new Map<string, string>();
let currentPath = SHIPPED_MODELS.includes("models/smoe.moe")
  ? "models/smoe.moe"
  : SHIPPED_MODELS[0]!;
let lastCompiled: Compiled | undefined;
let planUrl: string | undefined;

/** The library's layers (models/std, what specs import), offered by completion. */
const LIBRARY = definitionsIn(
  Object.entries(MODEL_FILES)
    .filter(([path]) => path.startsWith("models/std/"))
    .map(([, text]) => text),
);

/** The graph of the last front-end check: what the hover reads shapes and costs from. */
let checkedGraph: Graph | undefined;

const editor = new Editor(
  $("editor"),
  (text) => {
    edits.set(currentPath, text);
    setStale(true);
    runCheck();
  },
  (line, column, word) => hoverAt(checkedGraph, currentPath, line, column, word),
  () => LIBRARY,
);

function request(): CompileRequest {
  const level = new FormData(ui.controls).get("level") === "0" ? 0 : 2;
  return {
    path: currentPath,
    source: editor.value,
    overrides: parseOverrides(ui.overrides.value),
    level,
  };
}

function setStatus(text: string, kind: "" | "busy" = ""): void {
  ui.status.className = kind;
  ui.status.replaceChildren(text);
}

/** The bar under the header: `fraction` of the way through compile and run; undefined hides it. */
function setProgress(fraction: number | undefined): void {
  ui.progress.hidden = fraction === undefined;
  ui.progress.setAttribute("aria-valuenow", String(Math.round(100 * (fraction ?? 0))));
  (ui.progress.firstElementChild as HTMLElement).style.width = `${100 * (fraction ?? 0)}%`;
}

/** One step of compile-and-run: the status line and the bar, painted before the work goes on. */
async function step(text: string, fraction: number): Promise<void> {
  setStatus(text, "busy");
  setProgress(fraction);
  // The compiler runs on this thread: let the browser paint the step first.
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** Marks what is shown as made from an older version of the spec (or clears the mark). */
function setStale(stale: boolean): void {
  // A failure shown for the old spec says nothing about the new one.
  if (stale && ui.status.querySelector("pre.error")) setStatus("");
  const has = ui.results.dataset.has === "true";
  ui.stale.hidden = !(stale && has);
  ui.results.classList.toggle("stale", stale && has);
}

// ---- result tabs -------------------------------------------------------------------------------

const tabs = [...document.querySelectorAll<HTMLButtonElement>('.tabs [role="tab"]')];

function selectTab(id: string): void {
  for (const tab of tabs) {
    const selected = tab.id === id;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")!).hidden = !selected;
  }
  if (id === "tab-graph") void showGraph();
}

for (const tab of tabs) {
  tab.addEventListener("click", () => selectTab(tab.id));
  tab.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(tab);
    const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : -1;
    if (next < 0 && e.key !== "ArrowLeft") return;
    const target = tabs[(next + tabs.length) % tabs.length]!;
    target.focus();
    selectTab(target.id);
  });
}

// ---- graph view --------------------------------------------------------------------------------

let drawn: { graph: Graph; stage: string } | undefined;

/** Draws the chosen stage of the last compiled graph, unless it is already drawn. */
async function showGraph(): Promise<number> {
  const compiled = lastCompiled;
  if (!compiled?.lowered || !compiled.graph || !compiled.plan) return 0;
  const stage =
    document.querySelector<HTMLInputElement>('input[name="graph-stage"]:checked')?.value ===
    "before"
      ? "before"
      : "after";
  const graph = stage === "before" ? compiled.lowered : compiled.graph;
  if (drawn?.graph === graph) return graph.nodes.length;
  drawn = { graph, stage };
  ui.graph.replaceChildren(el("p", { class: "muted busy" }, "laying out the graph…"));
  try {
    return await drawGraph(graph, ui.graph);
  } catch (err) {
    drawn = undefined;
    ui.graph.replaceChildren(errorView(err));
    return 0;
  }
}

// ---- diagnostics -------------------------------------------------------------------------------

function showDiagnostics(result: {
  diagnostics: Compiled["diagnostics"];
  formatted: readonly string[];
}): void {
  const items = result.formatted.map((text, i) => {
    const d = result.diagnostics[i];
    const li = el("li", { class: d?.severity ?? "error" }, el("pre", {}, text));
    if (d) {
      li.dataset.file = d.span.file;
      li.dataset.line = String(d.span.line);
      if (d.span.file === currentPath) {
        li.title = "Go to this line";
        li.addEventListener("click", () => editor.goToLine(d.span.line, d.span.column));
      }
    }
    return li;
  });
  ui.diagnostics.replaceChildren(...items);
  editor.setMarkers(
    result.diagnostics
      .filter((d) => d.span.file === currentPath)
      .map((d) => ({
        line: d.span.line,
        column: d.span.column,
        endLine: d.span.endLine,
        endColumn: d.span.endColumn,
        severity: d.severity,
        message: d.message,
      })),
  );
}

function runCheck(): void {
  const result = check(request());
  checkedGraph = result.graph;
  showDiagnostics(result);
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  const others = result.formatted.length - errors;
  ui.checkStatus.replaceChildren(
    errors > 0 || result.formatted.length > result.diagnostics.length
      ? `${errors || result.formatted.length} error${errors === 1 ? "" : "s"}`
      : `✓ ${result.model ?? "ok"}${others > 0 ? `, ${others} warning${others === 1 ? "" : "s"}` : ""} (checked in ${result.ms.toFixed(1)} ms)`,
  );
  ui.checkStatus.className = errors > 0 ? "error-count" : "muted";
}

// ---- compile and run ---------------------------------------------------------------------------

function showIR(compiled: Compiled): void {
  if (!compiled.lowered || !compiled.stages) return;
  ui.irBefore.textContent = printGraph(compiled.lowered);
  const names = [...compiled.stages.keys()];
  ui.irStage.replaceChildren(...names.map((n) => el("option", { value: n }, n)));
  ui.irStage.value = names[names.length - 1]!;
  showStage();
}

function showStage(): void {
  const graph = lastCompiled?.stages?.get(ui.irStage.value);
  ui.irAfter.textContent = graph ? printGraph(graph) : "";
}

function offerPlan(plan: Plan): void {
  if (planUrl) URL.revokeObjectURL(planUrl);
  planUrl = URL.createObjectURL(new Blob([JSON.stringify(plan)], { type: "application/json" }));
  ui.download.href = planUrl;
  ui.download.download = `${plan.name}.plan.json`;
  ui.download.hidden = false;
}

const EMPTY = {
  routing: "Run a model to see which experts its tokens chose.",
  tokens: "Run a model to see the experts and gates of every token.",
  graph: "Compile a model to see its graph.",
  outputs: "No run yet.",
};

/** Empties every result view: nothing shown may belong to another version of the spec. */
function clearResults(): void {
  const empty = (text: string) => el("p", { class: "empty" }, text);
  ui.routing.replaceChildren(empty(EMPTY.routing));
  ui.tokenRoutes.replaceChildren(empty(EMPTY.tokens));
  ui.graph.replaceChildren(empty(EMPTY.graph));
  ui.outputs.replaceChildren(empty(EMPTY.outputs));
  ui.timings.replaceChildren();
  ui.irBefore.textContent = ui.irAfter.textContent = "";
  ui.irStage.replaceChildren();
  ui.download.hidden = true;
  ui.results.dataset.has = "false";
  drawn = undefined;
  setStale(false);
}

function doCompile(): Compiled {
  const compiled = compile(request());
  lastCompiled = compiled;
  showDiagnostics(compiled);
  clearResults();
  if (compiled.plan) {
    showIR(compiled);
    offerPlan(compiled.plan);
    ui.results.dataset.has = "true";
    if (!$("panel-graph").hidden) void showGraph();
  }
  return compiled;
}

function weightSource(): WeightSource {
  const kind = new FormData(ui.controls).get("weights");
  if (kind === "safetensors") {
    const file = ui.weightsFile.files?.[0];
    if (!file) throw new Error("Pick a .safetensors file, or choose seeded random weights.");
    return { kind: "safetensors", file };
  }
  return { kind: "seeded", seed: Number(ui.weightSeed.value) || 0 };
}

let busy = false;

/** The Run button: compile, then run on the GPU. Resolves with the run, or undefined. */
async function compileAndRun(
  warmRuns = 3,
): Promise<{ compiled: Compiled; run?: PlainRun; error?: string }> {
  if (busy) throw new Error("a run is already in progress");
  busy = true;
  ui.run.disabled = ui.compile.disabled = true;
  try {
    await step("compiling: parse, check, optimise, generate WGSL…", 0.1);
    const compiled = doCompile();
    if (!compiled.plan) {
      const error = compiled.failure ?? "the spec has errors (see the diagnostics)";
      setStatus("");
      ui.status.replaceChildren(errorView(error));
      return { compiled, error };
    }
    if (!hasWebGpu()) {
      setStatus(`compiled ${compiled.plan.name}; ${NO_WEBGPU}`);
      return { compiled, error: NO_WEBGPU };
    }
    await step(
      `running ${compiled.plan.name} on the GPU: weights, shader compilation, ${warmRuns + 1} run${warmRuns > 0 ? "s" : ""}…`,
      0.45,
    );
    const tokens = Math.max(1, Math.floor(Number(ui.tokens.value) || 1));
    const run = await runPlan({
      plan: compiled.plan,
      weights: weightSource(),
      tokens,
      inputSeed: Number(ui.inputSeed.value) || 0,
      warmRuns,
      routes: compiled.routes,
    });
    setProgress(0.95);
    ui.outputs.replaceChildren(outputsView(run));
    ui.timings.replaceChildren(
      timingsView(run, { front: compiled.ms, back: compiled.backMs ?? 0 }),
    );
    ui.routing.replaceChildren(routingView(run.result.routing));
    const ids = [...run.inputs.values()].find((t) => t.data instanceof Int32Array);
    ui.tokenRoutes.replaceChildren(
      tokenRoutesView(run.routes ?? [], ids?.data as Int32Array | undefined),
    );
    setStatus(
      `ran ${compiled.plan.name} on ${tokens} token${tokens === 1 ? "" : "s"}: ` +
        `${compiled.plan.kernels.length} kernels, ${compiled.plan.shaders.length} shaders` +
        (run.warnings.length > 0 ? `; ${run.warnings.join("; ")}` : ""),
    );
    return { compiled, run: plainRun(run) };
  } catch (err) {
    setStatus("");
    clearResults();
    ui.status.replaceChildren(errorView(err));
    return { compiled: lastCompiled!, error: err instanceof Error ? err.message : String(err) };
  } finally {
    busy = false;
    setProgress(undefined);
    ui.run.disabled = !hasWebGpu();
    ui.compile.disabled = false;
  }
}

// ---- model picker and events -------------------------------------------------------------------

function selectModel(path: string, overrides?: string): void {
  currentPath = path;
  ui.model.value = path;
  editor.value = edits.get(path) ?? MODEL_FILES[path] ?? "";
  ui.overrides.value = overrides ?? smallOverrides(path);
  if (lastCompiled) setStale(true);
  runCheck();
}

ui.model.replaceChildren(
  ...SHIPPED_MODELS.map((p) => el("option", { value: p }, p.replace(/^models\//, ""))),
);
ui.model.addEventListener("change", () => selectModel(ui.model.value));
ui.reset.addEventListener("click", () => {
  edits.delete(currentPath);
  selectModel(currentPath, ui.overrides.value);
});
let overridesTimer: ReturnType<typeof setTimeout> | undefined;
ui.overrides.addEventListener("input", () => {
  setStale(true);
  clearTimeout(overridesTimer);
  overridesTimer = setTimeout(runCheck, 250);
});
ui.irStage.addEventListener("change", showStage);
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="graph-stage"]'))
  radio.addEventListener("change", () => void showGraph());
// On a phone a fitted graph is too small to read: start at natural size, scrolling.
if (matchMedia("(max-width: 700px)").matches) {
  ui.graphFit.checked = false;
  ui.graph.classList.add("natural");
}
ui.graphFit.addEventListener("change", () =>
  ui.graph.classList.toggle("natural", !ui.graphFit.checked),
);
ui.controls.addEventListener("submit", (e) => {
  e.preventDefault();
  void compileAndRun();
});
ui.compile.addEventListener("click", async () => {
  await step("compiling: parse, check, optimise, generate WGSL…", 0.3);
  const compiled = doCompile();
  setProgress(undefined);
  setStatus(
    compiled.plan
      ? `compiled ${compiled.plan.name}: ${compiled.plan.kernels.length} kernels in ${(compiled.ms + (compiled.backMs ?? 0)).toFixed(1)} ms`
      : "",
  );
  if (!compiled.plan)
    ui.status.replaceChildren(
      errorView(compiled.failure ?? "the spec has errors (see the diagnostics)"),
    );
});
ui.weightsFile.addEventListener("change", () => {
  const radio = ui.controls.querySelector<HTMLInputElement>(
    'input[name="weights"][value="safetensors"]',
  );
  if (radio && ui.weightsFile.files?.length) radio.checked = true;
});

if (!hasWebGpu()) {
  ui.noWebGpu.hidden = false;
  ui.noWebGpu.textContent = NO_WEBGPU;
  ui.run.disabled = true;
  ui.run.title = "WebGPU is not available in this browser";
}

selectModel(currentPath);

setupTextPanel();

const trainPanel = setupTrainPanel(() => {
  const { path, source, overrides, level } = request();
  return { path, source, overrides, level };
});

// ---- test hook ---------------------------------------------------------------------------------

function apply(opts: HookOptions): void {
  const path = opts.model ?? currentPath;
  edits.delete(path);
  if (opts.source !== undefined) edits.set(path, opts.source);
  selectModel(path, opts.overrides);
  if (opts.level !== undefined) {
    const radio = ui.controls.querySelector<HTMLInputElement>(
      `input[name="level"][value="${opts.level}"]`,
    );
    radio!.checked = true;
  }
  if (opts.seed !== undefined) {
    ui.weightSeed.value = String(opts.seed);
    ui.controls.querySelector<HTMLInputElement>('input[name="weights"][value="seeded"]')!.checked =
      true;
  }
  if (opts.tokens !== undefined) ui.tokens.value = String(opts.tokens);
  if (opts.inputSeed !== undefined) ui.inputSeed.value = String(opts.inputSeed);
}

const hook: PlaygroundHook = {
  models: SHIPPED_MODELS,
  hasWebGpu: hasWebGpu(),
  /** Sets the controls as given, then does what the Run button does. */
  async run(opts: HookOptions = {}) {
    apply(opts);
    const { compiled, run, error } = await compileAndRun(opts.warmRuns ?? 0);
    return {
      diagnostics: compiled?.formatted ?? [],
      plan: compiled?.plan ? JSON.stringify(compiled.plan) : undefined,
      error,
      ...run,
    };
  },
  /** The front end only, as when typing. */
  check(opts: HookOptions = {}) {
    apply(opts);
    return check(request()).formatted;
  },
  /** Sets the controls, opens the Train tab and does what its Start button does. */
  async train(opts = {}) {
    apply(opts);
    selectTab("tab-train");
    return trainPanel.start(opts);
  },
  placeCursor(line, column) {
    editor.goToLine(line, column);
  },
  source: () => editor.value,
};

window.moecPlayground = hook;
document.body.dataset.ready = "true";
