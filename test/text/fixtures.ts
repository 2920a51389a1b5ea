// The Hugging Face fixtures under test/fixtures/hf/<name>/ (made by scripts/hf-fixtures/make.sh
// with Python transformers/tokenizers): the folders that hold a tokenizer.json and reference.json.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const HF_FIXTURES = join(import.meta.dirname, "..", "fixtures", "hf");

export interface HfFixture {
  name: string;
  dir: string;
  tokenizerJson: string;
  /** tokenizer_config.json, or {} when the folder has none. */
  tokenizerConfig: Record<string, unknown>;
  /** config.json of the model, or {} when the folder has none. */
  modelConfig: { vocab_size?: number; eos_token_id?: number | number[] };
  reference: { prompt: string; input_ids: number[]; greedy: number[]; greedy_text: string };
}

export function hfFixtures(): HfFixture[] {
  if (!existsSync(HF_FIXTURES)) return [];
  const readJson = (dir: string, file: string) =>
    existsSync(join(dir, file)) ? JSON.parse(readFileSync(join(dir, file), "utf8")) : {};
  return readdirSync(HF_FIXTURES, { withFileTypes: true })
    .filter((d) =>
      ["tokenizer.json", "reference.json"].every((f) => existsSync(join(HF_FIXTURES, d.name, f))),
    )
    .map((d) => {
      const dir = join(HF_FIXTURES, d.name);
      return {
        name: d.name,
        dir,
        tokenizerJson: readFileSync(join(dir, "tokenizer.json"), "utf8"),
        tokenizerConfig: readJson(dir, "tokenizer_config.json"),
        modelConfig: readJson(dir, "config.json"),
        reference: readJson(dir, "reference.json"),
      };
    });
}
