// Streaming detokenizer: the pieces add up to decoding the whole sequence, and a character split
// across tokens comes out whole, never as U+FFFD.
import { describe, expect, it } from "vitest";
import { createTextStream } from "../../runtime/text/stream.js";
import { loadTokenizer, type TextTokenizer } from "../../runtime/text/tokenizer.js";
import { hfFixtures } from "./fixtures.js";
import { tinyTokenizerJson } from "./tinyTokenizer.js";

const MULTI_BYTE = "naïve café 日本語 🙂, and once more: ü€😀";

function streamAll(tok: TextTokenizer, ids: readonly number[]): string[] {
  const stream = createTextStream(tok);
  const chunks = ids.map((id) => stream.push(id));
  chunks.push(stream.flush());
  expect(stream.ids).toEqual(ids);
  return chunks;
}

const tokenizers: [string, TextTokenizer][] = [
  ["tiny byte-level BPE", loadTokenizer(tinyTokenizerJson())],
  ...hfFixtures().map((f): [string, TextTokenizer] => [
    f.name,
    loadTokenizer(f.tokenizerJson, f.tokenizerConfig),
  ]),
];

describe("createTextStream", () => {
  it.each(tokenizers)(
    "%s: multi-byte characters split across tokens never show as U+FFFD",
    (_, tok) => {
      const ids = tok.encode(MULTI_BYTE, { addSpecialTokens: false });
      expect(ids.length).toBeGreaterThan([...MULTI_BYTE].length / 2); // some characters span tokens
      const chunks = streamAll(tok, ids);
      for (const chunk of chunks) expect(chunk).not.toContain("\uFFFD");
      expect(chunks.join("")).toBe(MULTI_BYTE);
      // Some token did end mid-character: otherwise this test would prove nothing.
      expect(chunks.slice(0, -1)).toContain("");
    },
  );

  it.each(hfFixtures().map((f) => [f.name, f] as const))(
    "%s: greedy ids one by one add up to decode(all)",
    (_, f) => {
      const tok = loadTokenizer(f.tokenizerJson, f.tokenizerConfig);
      const { greedy, greedy_text } = f.reference;
      expect(streamAll(tok, greedy).join("")).toBe(greedy_text);
      const prompt = f.reference.input_ids;
      expect(streamAll(tok, prompt).join("")).toBe(tok.decode(prompt));
    },
  );

  it("gives a U+FFFD that no later token completes at the end", () => {
    const tok = loadTokenizer(tinyTokenizerJson());
    const [e6] = tok.encode("日", { addSpecialTokens: false }); // first byte of a 3-byte character
    const stream = createTextStream(tok);
    expect(stream.push(97)).toBe("a");
    expect(stream.push(e6)).toBe(""); // might still be completed
    expect(stream.push(98)).toBe("\uFFFDb"); // 'b' cannot continue it: the bad byte is final
    expect(stream.push(e6)).toBe("");
    expect(stream.flush()).toBe("\uFFFD");
  });

  it("keeps no id that cannot be decoded, and refuses a decoder that rewrites its output", () => {
    const tok = loadTokenizer(tinyTokenizerJson());
    const stream = createTextStream(tok);
    stream.push(97);
    expect(() => stream.push(100_000)).toThrow(/token id 100000 is not in the vocabulary/);
    expect(stream.ids).toEqual([97]);
    expect(stream.push(98)).toBe("b");

    // WordPiece's decoder joins tokens with spaces; the clean-up a tokenizer_config can ask for
    // turns " ' " into "'", so the text produced for ["a", "'"] changes once "b" follows.
    const wordPiece = loadTokenizer(
      {
        model: { type: "WordPiece", vocab: { "[UNK]": 0, a: 1, "'": 2, b: 3 }, unk_token: "[UNK]" },
        decoder: { type: "WordPiece", prefix: "##", cleanup: false },
      },
      { clean_up_tokenization_spaces: true },
    );
    expect(wordPiece.decode([1, 2, 3])).toBe("a'b");
    const rewriting = createTextStream(wordPiece);
    expect(rewriting.push(1) + rewriting.push(2)).toBe("a '");
    expect(() => rewriting.push(3)).toThrow(/changed text it had already produced/);
  });
});
