// A small byte-level BPE tokenizer.json in the format Python `tokenizers` writes (GPT-2 style):
// 256 byte tokens, a few merges and one special token. Used where the tests need a tokenizer
// they can reshape (bad input); the real checks run on test/fixtures/hf/*/tokenizer.json.

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
function byteChars(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
  const chars: string[] = [];
  let next = 256;
  for (let b = 0; b < 256; b++) chars.push(String.fromCodePoint(printable(b) ? b : next++));
  return chars;
}

export const EOS = "<|endoftext|>";

export function tinyTokenizerJson(): Record<string, unknown> {
  const bytes = byteChars();
  const vocab: Record<string, number> = {};
  bytes.forEach((c, i) => (vocab[c] = i));
  // "Ġ" is the byte-level spelling of a space.
  const merges = [
    ["Ġ", "t"],
    ["h", "e"],
    ["Ġt", "he"],
    ["c", "a"],
    ["ca", "f"],
  ];
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const eosId = Object.keys(vocab).length;
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: eosId,
        content: EOS,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: {
      type: "ByteLevel",
      add_prefix_space: true,
      trim_offsets: false,
      use_regex: true,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}
