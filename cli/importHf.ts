// `moec import-hf DIR`: a Hugging Face model folder's config.json as a .moe spec whose weight names
// are the checkpoint's own (compiler/hf/importConfig.ts).
import path from "node:path";
import { HfConfigError, importHfConfig } from "../compiler/hf/importConfig.js";
import { FileError, readRegularFile } from "../compiler/node/files.js";
import { type Command, EXIT, type Io, usageError, writeOutput } from "./common.js";

/** config.json is small; a larger one is not a config. */
const MAX_CONFIG_BYTES = 1 << 20;

export const importHf: Command = {
  summary: "write a .moe spec for a Hugging Face MoE checkpoint folder (config.json)",
  usage: "moec import-hf DIR [--out FILE]",
  details: `Reads DIR/config.json (Mixtral, Qwen2-MoE, Qwen3-MoE or OLMoE) and writes a spec over
std/hf.moe whose instances are named as the checkpoint names its modules, so
'moec run SPEC --weights DIR' loads DIR's weights as they are (model.safetensors or the shards of
model.safetensors.index.json; F32, F16 or BF16). The model's hyper-parameters are the defaults of
the spec's parameters, so --set can shrink or change them. A field moec cannot handle is named.
  --out FILE        write the spec to FILE (default: print it)`,
  options: { out: { type: "string" } },
  run(args, io) {
    if (args.positionals.length !== 1) return usageError(io, "import-hf takes one model folder");
    const dir = args.positionals[0]!;
    const configFile = path.join(dir, "config.json");
    let spec: string;
    try {
      const bytes = readRegularFile(configFile, "model config", MAX_CONFIG_BYTES);
      spec = importHfConfig(parseJson(bytes, configFile), configFile);
    } catch (e) {
      return problem(io, e);
    }
    const out = args.values.out as string | undefined;
    if (out === undefined) {
      io.out(spec);
      return EXIT.ok;
    }
    try {
      writeOutput(out, spec);
    } catch (e) {
      return problem(io, e);
    }
    io.out(`wrote ${out}\n`);
    return EXIT.ok;
  },
};

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new HfConfigError(`${file}: not valid JSON (${(e as Error).message.slice(0, 80)})`);
  }
}

function problem(io: Io, e: unknown): number {
  if (!(e instanceof HfConfigError || e instanceof FileError)) throw e;
  io.err(`moec: ${e.message}\n`);
  return EXIT.errors;
}
