// The Train tab's controls: Start trains the spec in the editor (train.ts) and feeds each step to
// the live views (trainView.ts); Stop ends the run after the step in flight.
import { NotTrainable, type TrainRequest, type TrainStep, train } from "./train.js";
import { TrainView } from "./trainView.js";
import { el, errorView } from "./render.js";
import type { TrainOutcome, TrainSettings } from "./hook.js";
import { NO_WEBGPU, hasWebGpu } from "./gpu.js";

// The page's own description: text enough for a few hundred steps of a small model.
const PAGE_TEXT = Object.values(
  import.meta.glob("../README.md", { query: "?raw", import: "default", eager: true }),
)[0] as string;

/** What the panel trains: the editor's spec and overrides, read when Start is pressed. */
export type SpecSource = () => Pick<TrainRequest, "path" | "source" | "overrides" | "level">;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

export function setupTrainPanel(spec: SpecSource) {
  const ui = {
    form: $<HTMLFormElement>("train-controls"),
    text: $<HTMLTextAreaElement>("train-text"),
    steps: $<HTMLInputElement>("train-steps"),
    batch: $<HTMLInputElement>("train-batch"),
    seq: $<HTMLInputElement>("train-seq"),
    lr: $<HTMLInputElement>("train-lr"),
    start: $<HTMLButtonElement>("train-start"),
    stop: $<HTMLButtonElement>("train-stop"),
    status: $("train-status"),
    view: $("train-view"),
  };
  ui.text.value = PAGE_TEXT;
  let stopping = false;
  let running = false;
  const status = (text: string, kind = "") => {
    ui.status.className = kind;
    ui.status.replaceChildren(text);
  };
  if (!hasWebGpu()) {
    ui.start.disabled = true;
    status(NO_WEBGPU);
  }

  async function start(settings: TrainSettings = {}): Promise<TrainOutcome> {
    if (running) return { losses: [], active: {}, error: "training is already running" };
    if (settings.steps !== undefined) ui.steps.value = String(settings.steps);
    if (settings.batch !== undefined) ui.batch.value = String(settings.batch);
    if (settings.seq !== undefined) ui.seq.value = String(settings.seq);
    if (settings.lr !== undefined) ui.lr.value = String(settings.lr);
    if (settings.text !== undefined) ui.text.value = settings.text;
    const int = (input: HTMLInputElement, name: string, min: number) => {
      const v = Number(input.value);
      if (!Number.isInteger(v) || v < min)
        throw new NotTrainable(`${name} must be a whole number of at least ${min}`);
      return v;
    };
    const losses: number[] = [];
    let last: TrainStep | undefined;
    running = true;
    stopping = false;
    ui.start.disabled = true;
    ui.stop.disabled = false;
    ui.view.replaceChildren();
    try {
      const request: TrainRequest = {
        ...spec(),
        text: ui.text.value,
        steps: int(ui.steps, "Steps", 1),
        batch: int(ui.batch, "Batch", 1),
        seq: int(ui.seq, "Sequence", 2),
        lr: Number(ui.lr.value),
        seed: 0,
      };
      if (!(request.lr > 0)) throw new NotTrainable("Learning rate must be a positive number");
      const view = new TrainView(request.steps);
      status("compiling…", "busy");
      const { taken, validation } = await train(
        request,
        async (s) => {
          if (!last) ui.view.replaceChildren(view.element);
          last = s;
          losses.push(s.loss);
          view.add(s);
          const speed =
            s.tokensPerSecond === undefined ? "" : ` · ${Math.round(s.tokensPerSecond)} tokens/s`;
          status(
            `step ${s.step}/${request.steps} · loss ${s.loss.toFixed(3)} (cross-entropy ${s.ceLoss.toFixed(3)})${speed} · experts used ${s.sites.map((x) => `${x.active}/${x.experts}`).join(" ")}`,
            "busy",
          );
          // Let the page paint the step before the next one.
          await new Promise((resolve) => setTimeout(resolve, 0));
        },
        () => stopping,
        (text) => status(text, "busy"),
      );
      const first = losses[0];
      status(
        `${taken < request.steps ? "stopped after" : "trained"} ${taken} step${taken === 1 ? "" : "s"} (-O${request.level})` +
          (first === undefined ? "" : `: loss ${first.toFixed(3)} → ${losses.at(-1)!.toFixed(3)}`) +
          (last?.tokensPerSecond === undefined
            ? ""
            : `, ${Math.round(last.tokensPerSecond)} tokens/s`) +
          (validation
            ? `; held-out perplexity ${validation.perplexity.toFixed(2)} (${validation.sequences} sequences)`
            : ""),
      );
      return {
        losses,
        active: Object.fromEntries((last?.sites ?? []).map((s) => [s.scope, s.active])),
        tokensPerSecond: last?.tokensPerSecond,
        perplexity: validation?.perplexity,
      };
    } catch (err) {
      status("");
      ui.status.replaceChildren(
        err instanceof NotTrainable
          ? el("p", { class: "train-refusal" }, err.message)
          : errorView(err),
      );
      return { losses, active: {}, error: err instanceof Error ? err.message : String(err) };
    } finally {
      running = false;
      ui.start.disabled = !hasWebGpu();
      ui.stop.disabled = true;
    }
  }

  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    void start();
  });
  ui.stop.addEventListener("click", () => {
    stopping = true;
    ui.stop.disabled = true;
    status("stopping after this step…", "busy");
  });
  return { start };
}
