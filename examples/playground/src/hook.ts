// The pages' test hooks (window.moecPlayground, window.moecPrecompiled): they drive the same code
// paths as the buttons and return plain JSON. Types only, so Node tests can import them.
import type { PlainRun } from "./gpu.js";

export interface HookOptions {
  /** A shipped model path (`models/smoe.moe`); default: the current one. */
  model?: string;
  /** Source text to put in the editor (default: the file's text, edits discarded). */
  source?: string;
  /** `name=value` pairs, space separated; default: the model's small sizes. */
  overrides?: string;
  level?: 0 | 2;
  /** Seed of the random weights (selects seeded weights). */
  seed?: number;
  tokens?: number;
  inputSeed?: number;
  /** Timed runs after the first (default 0 through the hook, 3 from the button). */
  warmRuns?: number;
}

/** The Train tab's settings (its fields keep their values where one is not given). */
export interface TrainSettings {
  steps?: number;
  batch?: number;
  seq?: number;
  lr?: number;
  text?: string;
}

export interface TrainOutcome {
  readonly losses: number[];
  /** Per MoE layer: experts that received assignments in the last step. */
  readonly active: Record<string, number>;
  readonly tokensPerSecond?: number;
  /** Perplexity on the held-out tail of the text after the last step. */
  readonly perplexity?: number;
  readonly error?: string;
}

export type HookRun = Partial<PlainRun> & {
  /** Why nothing ran: diagnostics, a compiler or runtime failure, no WebGPU. */
  error?: string;
  /** Formatted diagnostics (`file:line:col: error: ...` with snippets). */
  diagnostics?: readonly string[];
  /** The compiled plan as JSON (playground only). */
  plan?: string;
};

export interface PlaygroundHook {
  readonly models: readonly string[];
  readonly hasWebGpu: boolean;
  /** Sets the controls as given, then does what the "Compile and run" button does. */
  run(opts?: HookOptions): Promise<HookRun>;
  /** Sets the controls, then runs the front end only, as typing does; formatted diagnostics. */
  check(opts?: HookOptions): readonly string[];
  /** Sets the controls, then does what the Train tab's Start button does (to the last step). */
  train(opts?: HookOptions & TrainSettings): Promise<TrainOutcome>;
  /** Focuses the editor with the caret at a 1-based line and column (tests then type keys). */
  placeCursor(line: number, column: number): void;
  /** The editor's text. */
  source(): string;
}

export interface PrecompiledHook {
  readonly hasWebGpu: boolean;
  /** The name of the plan given by ?plan=URL once loaded (undefined when none or it failed). */
  initial(): Promise<string | undefined>;
  planName(): string | undefined;
  load(url: string): Promise<string>;
  run(opts?: Pick<HookOptions, "seed" | "tokens" | "inputSeed" | "warmRuns">): Promise<HookRun>;
}

declare global {
  interface Window {
    moecPlayground?: PlaygroundHook;
    moecPrecompiled?: PrecompiledHook;
  }
}
