// The tokenizer wrapper against what Python transformers/tokenizers produced for the same
// tokenizer.json (test/fixtures/hf), and its errors on bad files.
import { describe, expect, it } from "vitest";
import { TokenizerError, loadTokenizer } from "../../runtime/text/tokenizer.js";
import { HF_FIXTURES, hfFixtures } from "./fixtures.js";
import { EOS, tinyTokenizerJson } from "./tinyTokenizer.js";

const fixtures = hfFixtures();
if (fixtures.length === 0)
  console.warn(`test/text: no Hugging Face fixtures in ${HF_FIXTURES}; their tests skip`);

describe.skipIf(fixtures.length === 0)("tokenizer on the Hugging Face fixtures", () => {
  it.each(fixtures.map((f) => [f.name, f] as const))(
    "%s: encode and decode match Python",
    (_, f) => {
      const tok = loadTokenizer(f.tokenizerJson, f.tokenizerConfig, `${f.name}/tokenizer.json`);
      const { prompt, input_ids, greedy, greedy_text } = f.reference;
      expect(tok.encode(prompt)).toEqual(input_ids);
      expect(tok.decode(greedy)).toBe(greedy_text);
      expect(tok.decode(tok.encode(prompt))).toBe(prompt);
    },
  );

  it.each(fixtures.map((f) => [f.name, f] as const))(
    "%s: vocabulary and EOS agree with config.json",
    (_, f) => {
      const tok = loadTokenizer(f.tokenizerJson, f.tokenizerConfig, `${f.name}/tokenizer.json`);
      const { vocab_size, eos_token_id } = f.modelConfig;
      expect(vocab_size).toBeTypeOf("number");
      tok.checkVocabulary(vocab_size!);
      expect(() => tok.checkVocabulary(tok.vocabSize - 1)).toThrow(
        new RegExp(
          `${f.name}/tokenizer\\.json: token ids go up to ${tok.vocabSize - 1}.*only ${tok.vocabSize - 1} rows`,
        ),
      );
      const eos = [eos_token_id ?? []].flat();
      expect(eos.length).toBeGreaterThan(0);
      for (const id of eos) expect(tok.eosIds).toContain(id);
    },
  );
});

describe("tokenizer wrapper", () => {
  it("reads vocabulary size, EOS and special tokens from tokenizer.json and its config", () => {
    const json = tinyTokenizerJson();
    const tok = loadTokenizer(JSON.stringify(json));
    const eosId = 256 + 5; // 256 bytes, 5 merges, then the special token
    expect(tok.vocabSize).toBe(eosId + 1);
    expect(tok.eosIds).toEqual([eosId]); // found by its well-known spelling
    expect(loadTokenizer(json, { eos_token: { content: "a" } }).eosIds).toEqual([97]);
    expect(loadTokenizer(json, { eos_token: "<none>" }).eosIds).toEqual([]);
    expect(tok.encode(`ab${EOS}`)).toEqual([97, 98, eosId]);
    expect(tok.decode([97, eosId, 98])).toBe(`a${EOS}b`);
    expect(tok.decode([97, eosId, 98], { skipSpecialTokens: true })).toBe("ab");
    expect(tok.decode([])).toBe("");
    // Python tokenizers does not "clean up" spaces before punctuation; neither do we by default.
    expect(tok.decode(tok.encode("a , b ."))).toBe("a , b .");
  });

  it("refuses a tokenizer with more ids than the model has rows", () => {
    const tok = loadTokenizer(tinyTokenizerJson(), {}, "models/x/tokenizer.json");
    expect(() => tok.checkVocabulary(200)).toThrow(TokenizerError);
    expect(() => tok.checkVocabulary(200)).toThrow(
      "models/x/tokenizer.json: token ids go up to 261, but the model's vocabulary has only 200 rows",
    );
    tok.checkVocabulary(262);
    tok.checkVocabulary(320); // models often pad their vocabulary
    expect(() => tok.decode([5, 300])).toThrow(
      /models\/x\/tokenizer\.json: token id 300 is not in the vocabulary/,
    );
    expect(() => tok.decode([1.5])).toThrow(/token id 1\.5/);
  });

  it("reports malformed JSON with the file, line and column, and no more than an excerpt", () => {
    const big = JSON.stringify(tinyTokenizerJson(), null, 1);
    const broken = big.replace('"merges"', '"merges" "oops"'); // a missing colon, deep in the file
    const error = catchError(() => loadTokenizer(broken, {}, "dir/tokenizer.json"));
    expect(error).toBeInstanceOf(TokenizerError);
    const line = big.slice(0, big.indexOf('"merges"')).split("\n").length;
    expect(error.message).toMatch(
      new RegExp(`^dir/tokenizer\\.json:${line}:\\d+: not valid JSON: `),
    );
    expect(error.message.length).toBeLessThan(250);
    expect(error.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);

    // Control characters in the input come back escaped; engines quote inputs raw, we must not.
    const control = catchError(() => loadTokenizer("\u0001\u0002\u001b[31m" + "x".repeat(5000)));
    expect(control.message).toMatch(/^tokenizer\.json(:\d+:\d+)?: not valid JSON: /);
    expect(control.message).not.toMatch(/[\u0000-\u001f]/);
    expect(control.message.length).toBeLessThan(250);
    expect(catchError(() => loadTokenizer("")).message).toMatch(
      /^tokenizer\.json: not valid JSON: .*end/,
    );
  });

  it("names what it cannot handle: not a tokenizer, an unsupported model type or component", () => {
    const withModel = (model: object, extra: object = {}) => ({
      ...tinyTokenizerJson(),
      model,
      ...extra,
    });
    expect(() => loadTokenizer("[1, 2]", {}, "t.json")).toThrow(/^t\.json: expected a JSON object/);
    expect(() =>
      loadTokenizer('{"architectures": ["MixtralForCausalLM"]}', {}, "config.json"),
    ).toThrow(/^config\.json: no "model" object; is this a Hugging Face tokenizer\.json\?/);
    expect(() =>
      loadTokenizer(withModel({ type: "WordLevel", vocab: {}, unk_token: "?" })),
    ).toThrow(
      /^tokenizer\.json: model\.type "WordLevel" is not supported \(supported: BPE, Unigram, WordPiece\)/,
    );
    expect(() => loadTokenizer(withModel({ vocab: {} }))).toThrow(
      /model\.type missing is not supported/,
    );
    const badDecoder = { ...tinyTokenizerJson(), decoder: { type: "Teleport" } };
    expect(() => loadTokenizer(badDecoder)).toThrow(
      /^tokenizer\.json: unsupported tokenizer: Unknown Decoder type: Teleport/,
    );
    expect(() => loadTokenizer({ ...tinyTokenizerJson(), added_tokens: 3 })).toThrow(
      /"added_tokens" must be a list/,
    );
  });

  it("does not change the object it was given", () => {
    const json = tinyTokenizerJson();
    delete json.normalizer;
    const before = JSON.stringify(json);
    loadTokenizer(json).encode("the cafe");
    expect(JSON.stringify(json)).toBe(before);
  });
});

function catchError(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
}
