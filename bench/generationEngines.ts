// The engines bench/generation.ts times: moec (a decoding plan, runtime/generate.ts) and
// onnxruntime-node running a bench/onnx/<model>/model.onnx, with the weights.bin that graph reads
// written from moec's own tensors. Each engine generates greedily and times prefill and decode
// the same way.
import { performance } from "node:perf_hooks";
import * as ort from "onnxruntime-node";
import type { Plan } from "../plan/format.js";
import type { MoecDevice } from "../runtime/device.js";
import { generate } from "../runtime/generate.js";
import { Session } from "../runtime/session.js";
import { createSampler } from "../runtime/text/sampling.js";
import type { WeightData } from "../runtime/weightUpload.js";

/** bench/onnx/<model>/weights.json, written by scripts/hf-fixtures/export_onnx.py. */
export interface Manifest {
  readonly file: string;
  readonly bytes: number;
  /** A checkpoint folder (from the repository root) whose weights the model runs; else seeded. */
  readonly checkpoint: string | null;
  readonly tensors: readonly {
    readonly name: string;
    /** The checkpoint tensor; `{e}` names are stacked over experts ([E, out, in]). */
    readonly source: string;
    readonly stacked: boolean;
    readonly shape: readonly number[];
    readonly offset: number;
    readonly length: number;
  }[];
}

/** The fields of a Mixtral config.json the bench reads. */
export interface HfConfig {
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly num_key_value_heads: number;
  readonly head_dim?: number | null;
  readonly intermediate_size: number;
  readonly num_local_experts: number;
  readonly num_experts_per_tok: number;
}

/** One greedy generation, timed as runtime/generate.ts times it. */
export interface Timed {
  readonly ids: readonly number[];
  readonly prefillTps: number;
  readonly decodeTps: number;
}

export interface Engine {
  readonly label: string;
  /** moec, the peer the goal compares against, or the CPU reference the checks compare with. */
  readonly role: "moec" | "peer" | "reference";
  /** `tokens` new tokens after the prompt, each call a new sequence. */
  generate(prompt: readonly number[], tokens: number): Promise<Timed>;
  /** Logits of every prompt position, [prompt, vocab]. */
  promptLogits(prompt: readonly number[]): Promise<Float32Array>;
  destroy(): Promise<void>;
}

/** Tensors by checkpoint name: a checkpoint's (with shapes) or moec's seeded ones. */
export type Weights = ReadonlyMap<string, WeightData>;

const REGENERATE = "regenerate bench/onnx with scripts/hf-fixtures/export_onnx.py";

/** weights.bin for the ONNX graph, from the tensors moec runs (per-expert or stacked names). */
export function weightsFile(model: string, manifest: Manifest, weights: Weights): Uint8Array {
  const bytes = new Uint8Array(manifest.bytes);
  for (const t of manifest.tensors) {
    const names =
      t.stacked && !weights.has(t.source)
        ? Array.from({ length: t.shape[0]! }, (_, e) => t.source.replace("{e}", `${e}`))
        : [t.source];
    let offset = t.offset;
    for (const name of names) {
      const w = weights.get(name);
      if (!w) throw new Error(`${model}: no weight ${name} for ${t.name}; ${REGENERATE}`);
      const data = w instanceof Float32Array ? w : w.data;
      if (!(data instanceof Float32Array))
        throw new Error(`${model}: ${name} is not a float tensor; ${REGENERATE}`);
      if (offset + data.byteLength > t.offset + t.length) break;
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
      offset += data.byteLength;
    }
    if (offset - t.offset !== t.length)
      throw new Error(
        `${model}: ${t.source} does not have the ${t.length / 4} values ${t.name} holds; ${REGENERATE}`,
      );
  }
  return bytes;
}

export async function moecEngine(
  moec: MoecDevice,
  label: string,
  plan: Plan,
  weights: Weights,
  /** The same model compiled for T = 1, for the single-token steps (as moec generate does). */
  decodePlan?: Plan,
): Promise<Engine> {
  const session = await Session.create(moec.device, plan, weights);
  const decoder = decodePlan && (await session.sibling(decodePlan));
  const idsName = plan.inputs.find((i) => i.name !== "positions")!.name;
  return {
    label,
    role: "moec",
    async generate(prompt, tokens) {
      const g = await generate(session, prompt, { maxTokens: tokens, temperature: 0, decoder });
      return {
        ids: g.ids,
        prefillTps: g.prefillTokensPerSecond,
        decodeTps: g.decodeTokensPerSecond,
      };
    },
    async promptLogits(prompt) {
      const result = await session.run(
        new Map([
          [idsName, { shape: [prompt.length], data: Int32Array.from(prompt) }],
          ["positions", { shape: [prompt.length], data: Int32Array.from(prompt, (_, i) => i) }],
        ]),
      );
      return result.outputs.get(plan.outputs[0]!.name)!.data as Float32Array;
    },
    destroy: async () => {
      decoder?.destroy();
      session.destroy();
    },
  };
}

/** An onnxruntime session of the exported graph on one execution provider ("webgpu", "cpu"). */
export async function onnxEngine(
  modelFile: string,
  config: HfConfig,
  ep: string,
  role: Engine["role"],
): Promise<Engine> {
  const session = await ort.InferenceSession.create(modelFile, { executionProviders: [ep] });
  const headDim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
  const cacheShape = [1, config.num_key_value_heads, 0, headDim];
  const emptyCache = () => {
    const past: Record<string, ort.Tensor> = {};
    for (let i = 0; i < config.num_hidden_layers; i++)
      for (const kind of ["key", "value"])
        past[`past_${kind}.${i}`] = new ort.Tensor("float32", new Float32Array(0), cacheShape);
    return past;
  };
  const row = (values: readonly number[]) =>
    new ort.Tensor("int64", BigInt64Array.from(values, BigInt), [1, values.length]);
  // One run: its present keys and values become the next run's past ones. onnxruntime-node
  // hands every output back on the CPU, so the cache travels through host memory each step.
  const step = async (past: Record<string, ort.Tensor>, ids: readonly number[], start: number) => {
    const positions = ids.map((_, i) => start + i);
    const out = await session.run({ input_ids: row(ids), position_ids: row(positions), ...past });
    for (const name of Object.keys(past)) past[name] = out[name.replace("past", "present")]!;
    return out["logits"]!.data as Float32Array;
  };
  const vocab = config.vocab_size;
  return {
    label: `onnxruntime ${ep}`,
    role,
    async generate(prompt, tokens) {
      // runtime/generate.ts's loop and greedy sampler, timed the same way.
      const sample = createSampler({ temperature: 0 });
      const past = emptyCache();
      let started = performance.now();
      const logits = await step(past, prompt, 0);
      const ids = [sample(logits.subarray((prompt.length - 1) * vocab, prompt.length * vocab))];
      const prefillMs = performance.now() - started;
      started = performance.now();
      while (ids.length < tokens)
        ids.push(sample(await step(past, [ids.at(-1)!], prompt.length + ids.length - 1)));
      const decodeMs = performance.now() - started;
      return {
        ids,
        prefillTps: (prompt.length / prefillMs) * 1000,
        decodeTps: ((ids.length - 1) / decodeMs) * 1000,
      };
    },
    promptLogits: (prompt) => step(emptyCache(), prompt, 0),
    destroy: () => session.release(),
  };
}

/** onnxruntime-node's version, for the report. */
export const onnxruntimeVersion = (): string => ort.env.versions.common;
