// The Text tab: the user picks a Hugging Face model folder (config.json, model.safetensors or its
// shards, tokenizer.json), read in the page and never sent anywhere; its config becomes a .moe
// spec (compiler/hf), compiled here for decoding with a KV cache (one plan serves the prompt and
// every new token), and runtime/generate.ts writes text as `moec generate` does: tokens stream in
// with prefill and decode speeds and the experts each token used (textView.ts).
import { compileGraph } from "../../../compiler/compile.js";
import { importHfConfig } from "../../../compiler/hf/importConfig.js";
import { compileToIR } from "../../../compiler/index.js";
import { memoryHost } from "../../../compiler/sources.js";
import { formatDiagnostic, sortDiagnostics } from "../../../grammar/diagnostics.js";
import { formatBytes } from "../../../plan/bytes.js";
import type { Plan } from "../../../plan/format.js";
import { type DeviceProfile, profileOfDevice } from "../../../plan/profile.js";
import { checkBudget } from "../../../runtime/budget.js";
import { INDEX_FILE, readCheckpoint } from "../../../runtime/checkpoint.js";
import { generate } from "../../../runtime/generate.js";
import { Session, type WeightData } from "../../../runtime/session.js";
import { createTextStream } from "../../../runtime/text/stream.js";
import { type TextTokenizer, loadTokenizer } from "../../../runtime/text/tokenizer.js";
import { NO_WEBGPU, getDevice, hasWebGpu } from "./gpu.js";
import { MODEL_FILES } from "./models.js";
import { el, errorView } from "./render.js";
import { type ModelInfo, RoutingView, modelCard } from "./textView.js";

/** A problem with what the user picked or typed: shown as a message, never as a failure. */
class TextPanelError extends Error {}

/** Raised from the token callback when Stop is pressed: ends generate() after that token. */
class Stopped extends Error {}

/** KV-cache positions compiled at load; a longer prompt + max tokens recompiles, up to the model's limit. */
const DEFAULT_CONTEXT = 1024;

/**
 * The picked files of the model folder (the shallowest one holding config.json), by name, and the
 * folder's path for messages ("." when files were picked rather than a folder).
 */
export function modelFolder(picked: readonly File[]): { label: string; files: Map<string, File> } {
  const dirs = new Map<string, Map<string, File>>();
  for (const file of picked) {
    const rel = file.webkitRelativePath || file.name;
    const dir = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
    if (!dirs.has(dir)) dirs.set(dir, new Map());
    dirs.get(dir)!.set(file.name, file);
  }
  const depth = (d: string) => (d === "" ? 0 : d.split("/").length);
  const candidates = [...dirs.keys()]
    .filter((d) => dirs.get(d)!.has("config.json"))
    .sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
  const dir = candidates[0];
  if (dir === undefined) {
    const where = [...dirs.keys()].sort((a, b) => depth(a) - depth(b))[0] || "the picked files";
    throw new TextPanelError(
      `${where}: no config.json. Pick a Hugging Face model folder: config.json, ` +
        "model.safetensors (or its shards with model.safetensors.index.json) and tokenizer.json.",
    );
  }
  return { label: dir || ".", files: dirs.get(dir)! };
}

function parseJson(bytes: Uint8Array, where: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new TextPanelError(`${where}: not valid JSON (${(e as Error).message.slice(0, 80)})`);
  }
}

/**
 * The imported spec lowered for decoding with `context` positions, compiled at -O2: the plan for
 * the prompt, and one specialised to T = 1 for the single-token steps (as moec generate runs).
 */
function compileForDecoding(
  entry: string,
  spec: string,
  context: number,
  profile: DeviceProfile,
): { plan: Plan; decodePlan: Plan } {
  const host = memoryHost({ ...MODEL_FILES, [entry]: spec });
  const front = compileToIR(entry, host, { decode: { context } });
  if (!front.graph) {
    const text = sortDiagnostics(front.diagnostics).map((d) =>
      formatDiagnostic(d, front.program.texts),
    );
    throw new TextPanelError(`the imported spec does not compile:\n${text.join("\n")}`);
  }
  return {
    plan: compileGraph(front.graph, { level: 2, profile }).plan,
    decodePlan: compileGraph(front.graph, { level: 2, profile, bindings: { T: 1 } }).plan,
  };
}

/** A prompt session and its single-token sibling on the same weights and KV caches. */
async function createSessions(
  device: GPUDevice,
  plans: { plan: Plan; decodePlan: Plan },
  weights: ReadonlyMap<string, WeightData>,
  warn: (message: string) => void,
): Promise<{ session: Session; decoder: Session }> {
  const session = await Session.create(device, plans.plan, weights, { warn });
  return { session, decoder: await session.sibling(plans.decodePlan) };
}

interface Loaded {
  readonly entry: string;
  readonly spec: string;
  readonly tokenizer: TextTokenizer;
  readonly weights: ReadonlyMap<string, WeightData>;
  readonly maxPositions: number;
  readonly profile: DeviceProfile;
  info: ModelInfo;
  plan: Plan;
  session: Session;
  decoder: Session;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export function setupTextPanel() {
  const ui = {
    loadFolder: $<HTMLButtonElement>("text-load"),
    loadFiles: $<HTMLButtonElement>("text-load-files"),
    folder: $<HTMLInputElement>("text-folder"),
    files: $<HTMLInputElement>("text-files"),
    model: $("text-model"),
    form: $<HTMLFormElement>("text-controls"),
    prompt: $<HTMLTextAreaElement>("text-prompt"),
    maxTokens: $<HTMLInputElement>("text-max-tokens"),
    temperature: $<HTMLInputElement>("text-temperature"),
    topK: $<HTMLInputElement>("text-top-k"),
    topP: $<HTMLInputElement>("text-top-p"),
    seed: $<HTMLInputElement>("text-seed"),
    generate: $<HTMLButtonElement>("text-generate"),
    stop: $<HTMLButtonElement>("text-stop"),
    status: $("text-status"),
    output: $("text-output"),
    routing: $("text-routing"),
  };
  let loaded: Loaded | undefined;
  let busy = false;
  let stopping = false;

  const status = (state: string, ...content: (Node | string)[]) => {
    ui.status.dataset.state = state;
    ui.status.className = state === "loading" || state === "running" ? "busy" : "";
    ui.status.replaceChildren(...content);
  };
  const fail = (err: unknown) =>
    status("error", err instanceof Error || typeof err === "string" ? errorView(err) : String(err));
  const setBusy = (value: boolean) => {
    busy = value;
    ui.loadFolder.disabled = ui.loadFiles.disabled = value || !hasWebGpu();
    ui.generate.disabled = value || !loaded;
    ui.stop.disabled = !value || !loaded;
  };
  const paint = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

  async function load(picked: readonly File[]): Promise<void> {
    if (busy || picked.length === 0) return;
    setBusy(true);
    loaded?.decoder.destroy();
    loaded?.session.destroy();
    loaded = undefined;
    ui.model.replaceChildren();
    ui.output.replaceChildren();
    ui.routing.replaceChildren();
    try {
      const { label, files } = modelFolder(picked);
      const read = async (name: string) => new Uint8Array(await files.get(name)!.arrayBuffer());
      status("loading", `reading ${label}/config.json…`);
      const config = parseJson(await read("config.json"), `${label}/config.json`) as Record<
        string,
        unknown
      >;
      const spec = importHfConfig(config, `${label}/config.json`);
      if (!files.has("tokenizer.json"))
        throw new TextPanelError(
          `${label}: no tokenizer.json (it turns the prompt into tokens and the tokens into text)`,
        );
      const tokenizerConfig = files.has("tokenizer_config.json")
        ? parseJson(await read("tokenizer_config.json"), `${label}/tokenizer_config.json`)
        : {};
      const tokenizer = loadTokenizer(
        new TextDecoder().decode(await read("tokenizer.json")),
        tokenizerConfig as object,
        `${label}/tokenizer.json`,
      );

      const moec = await getDevice();
      const profile = profileOfDevice(moec);
      const maxPositions = positiveInt(config["max_position_embeddings"]) ?? Infinity;
      const context = Math.min(maxPositions, DEFAULT_CONTEXT);
      const name = label === "." ? "model" : label.replace(/^.*\//, "");
      const entry = `hf/${name.replace(/[^\w-]/g, "_")}.moe`;
      status("loading", "compiling the imported spec for decoding (KV cache, -O2)…");
      await paint();
      const plans = compileForDecoding(entry, spec, context, profile);
      // Before any weight is read: does the model fit this device at all?
      checkBudget(plans.plan, moec.limits);
      const vocab = plans.plan.inputs[0]?.idLimit;
      if (vocab !== undefined) tokenizer.checkVocabulary(vocab);

      // Only the weights: README, *.bin or images in the folder are never read.
      const shards = [...files.keys()].filter(
        (n) => n.endsWith(".safetensors") || n === INDEX_FILE,
      );
      const size = shards.reduce((n, name) => n + files.get(name)!.size, 0);
      status("loading", `reading ${formatBytes(size)} of weights…`);
      const bytes = new Map<string, Uint8Array>();
      for (const name of shards) bytes.set(name, await read(name));
      const warnings: string[] = [];
      const weights = readCheckpoint(
        { label, has: (n) => bytes.has(n), read: (n) => bytes.get(n)! },
        (m) => warnings.push(m),
      );
      status("loading", "uploading the weights and compiling the kernels…");
      await paint();
      const { session, decoder } = await createSessions(moec.device, plans, weights, (m) =>
        warnings.push(m),
      );
      const plan = plans.plan;
      const info = modelInfo(label, config, plan, weights, context);
      loaded = {
        info,
        entry,
        spec,
        tokenizer,
        weights,
        maxPositions,
        profile,
        plan,
        session,
        decoder,
      };
      ui.model.replaceChildren(modelCard(info, warnings));
      status(
        "loaded",
        `loaded ${info.folder} on ${moec.describeAdapter().split(";")[0]}. Type a prompt and press Generate.`,
      );
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  /** The sampling controls, checked; greedy when the temperature is 0. */
  function settings() {
    const int = (input: HTMLInputElement, name: string, min: number) => {
      const v = Number(input.value);
      if (!Number.isSafeInteger(v) || v < min)
        throw new TextPanelError(
          `${name} must be a whole number of at least ${min}, got "${input.value}"`,
        );
      return v;
    };
    const temperature = Number(ui.temperature.value || "0");
    if (!(temperature >= 0) || !Number.isFinite(temperature))
      throw new TextPanelError(
        `Temperature must be a number of at least 0 (0 = greedy), got "${ui.temperature.value}"`,
      );
    const topP = ui.topP.value.trim() === "" ? 1 : Number(ui.topP.value);
    if (!(topP > 0 && topP <= 1))
      throw new TextPanelError(`Top-p must be in (0, 1], got "${ui.topP.value}"`);
    const topK =
      ui.topK.value.trim() === "" || ui.topK.value.trim() === "0"
        ? undefined
        : int(ui.topK, "Top-k", 1);
    return {
      maxTokens: int(ui.maxTokens, "Max tokens", 1),
      temperature,
      topP,
      ...(topK !== undefined && { topK }),
      seed: int(ui.seed, "Seed", 0),
    };
  }

  /** A plan and session whose KV cache holds `needed` positions (recompiled when it is too small). */
  async function ensureContext(model: Loaded, needed: number): Promise<void> {
    const context = model.info.context;
    if (needed <= context) return;
    if (needed > model.maxPositions)
      throw new TextPanelError(
        `the prompt and max tokens need ${needed} positions; the model was trained for ${model.maxPositions} (max_position_embeddings)`,
      );
    const bigger = Math.min(model.maxPositions, Math.ceil(needed / 256) * 256);
    status("running", `recompiling for a KV cache of ${bigger} positions…`);
    await paint();
    const plans = compileForDecoding(model.entry, model.spec, bigger, model.profile);
    const moec = await getDevice();
    const { session, decoder } = await createSessions(moec.device, plans, model.weights, () => {});
    model.decoder.destroy();
    model.session.destroy();
    model.plan = plans.plan;
    model.session = session;
    model.decoder = decoder;
    model.info = { ...model.info, context: bigger };
  }

  async function run(): Promise<void> {
    const model = loaded;
    if (busy || !model) return;
    setBusy(true);
    stopping = false;
    const promptText = ui.prompt.value;
    const generated = el("span", { class: "text-generated" });
    try {
      const options = settings();
      const prompt = model.tokenizer.encode(promptText);
      if (prompt.length === 0)
        throw new TextPanelError("The prompt is empty: type some text first.");
      await ensureContext(model, prompt.length + options.maxTokens);
      const view = new RoutingView(model.plan.routing);
      ui.output.replaceChildren(el("span", { class: "text-prompt" }, promptText), generated);
      ui.output.classList.add("running");
      ui.routing.replaceChildren(view.element);
      status("running", `prefill: ${prompt.length} prompt tokens…`);
      const stream = createTextStream(model.tokenizer);
      const started = performance.now();
      let firstAt = 0;
      const generation = await generate(model.session, prompt, {
        ...options,
        decoder: model.decoder,
        stopIds: model.tokenizer.eosIds,
        onToken: (id, index) => {
          generated.append(stream.push(id));
          view.add({ id, text: model.tokenizer.decode([id]) });
          const now = performance.now();
          if (index === 0) firstAt = now;
          const rate =
            index > 0 ? ` · ${((index / (now - firstAt)) * 1000).toFixed(1)} tokens/s` : "";
          status(
            "running",
            `generating: ${index + 1} of at most ${options.maxTokens} tokens${rate}`,
          );
          if (stopping) throw new Stopped();
        },
      }).catch((err: unknown) => {
        if (err instanceof Stopped) return undefined;
        throw err;
      });
      generated.append(stream.flush());
      if (!generation) {
        const n = stream.ids.length;
        const seconds = (performance.now() - started) / 1000;
        view.finish([], "the run was stopped before its experts were read back");
        status(
          "done",
          `stopped after ${n} token${n === 1 ? "" : "s"} (${(n / seconds).toFixed(1)} tokens/s overall)`,
        );
        return;
      }
      view.finish(
        generation.routing,
        "it is the last one: it was never fed back, so no expert saw it",
      );
      const decoded = generation.ids.length - 1;
      const speed = (kind: string, what: string, perSecond: number, title: string) =>
        el(
          "span",
          { class: "text-speed", "data-kind": kind, title },
          el("b", {}, `${perSecond.toFixed(1)} tokens/s`),
          ` ${what}`,
        );
      status(
        "done",
        speed(
          "prefill",
          `prefill (${prompt.length} tokens)`,
          generation.prefillTokensPerSecond,
          "the prompt in one run; the first run after loading includes pipeline warm-up",
        ),
        speed(
          "decode",
          `decode (${decoded} tokens)`,
          generation.decodeTokensPerSecond,
          "one run per new token, the KV cache on the GPU",
        ),
        el("span", { class: "muted" }, `stopped: ${generation.stop.replace("_", " ")}`),
      );
    } catch (err) {
      fail(err);
    } finally {
      ui.output.classList.remove("running");
      setBusy(false);
    }
  }

  const pick = (input: HTMLInputElement) => {
    input.addEventListener("change", () => {
      const files = [...(input.files ?? [])];
      input.value = ""; // picking the same folder again loads it again
      void load(files);
    });
  };
  pick(ui.folder);
  pick(ui.files);
  ui.loadFolder.addEventListener("click", () => ui.folder.click());
  ui.loadFiles.addEventListener("click", () => ui.files.click());
  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    void run();
  });
  ui.stop.addEventListener("click", () => {
    stopping = true;
    ui.stop.disabled = true;
  });
  setBusy(false);
  if (!hasWebGpu()) status("error", NO_WEBGPU);
  return { load, run };
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** What the model card shows: sizes from the checkpoint itself, experts from the plan's routers. */
function modelInfo(
  folder: string,
  config: Record<string, unknown>,
  plan: Plan,
  weights: ReadonlyMap<string, WeightData>,
  context: number,
): ModelInfo {
  let parameters = 0;
  let expertParameters = 0;
  for (const [name, w] of weights) {
    const n = w instanceof Float32Array ? w.length : w.shape.reduce((a, b) => a * b, 1);
    parameters += n;
    if (name.includes(".experts.")) expertParameters += n;
  }
  const site = plan.routing[0];
  const unused = site ? expertParameters * (1 - site.topK / site.experts) : 0;
  const architectures = config["architectures"];
  return {
    folder: folder === "." ? "" : folder.replace(/^.*\//, ""),
    architecture:
      Array.isArray(architectures) && typeof architectures[0] === "string"
        ? architectures[0]
        : String(config["model_type"]),
    layers: positiveInt(config["num_hidden_layers"]) ?? 0,
    parameters,
    activeParameters: Math.round(parameters - unused),
    dtype: `${String(config["dtype"] ?? config["torch_dtype"] ?? "float32")} weights, f32 compute`,
    vocab: plan.inputs[0]?.idLimit ?? 0,
    context,
    sites: plan.routing,
  };
}
