// Streaming detokenizer: push generated ids one at a time, get back only the text they complete.
// Byte-level BPE (and byte-fallback) tokens can end in the middle of a UTF-8 character, which
// decodes to U+FFFD until the next token brings the rest. So decode the whole sequence each time
// and emit what is new, holding back a trailing U+FFFD run: simple, and correct for any decoder
// whose output for a sequence extends its output for every prefix. Browser-safe.
import { TokenizerError, type TextTokenizer } from "./tokenizer.js";

const REPLACEMENT = "\uFFFD";

export interface TextStream {
  /** Adds one token id; returns the text completed by it ("" while a character is incomplete). */
  push(id: number): string;
  /** Ends the stream: returns what was held back (a U+FFFD that no token completed). */
  flush(): string;
  /** Every id pushed so far. */
  readonly ids: readonly number[];
}

export function createTextStream(
  tokenizer: TextTokenizer,
  options: { skipSpecialTokens?: boolean } = {},
): TextStream {
  const ids: number[] = [];
  let emitted = "";

  const emitUpTo = (text: string, holdBack: boolean): string => {
    let stable = text;
    if (holdBack) while (stable.endsWith(REPLACEMENT)) stable = stable.slice(0, -1);
    if (!stable.startsWith(emitted)) {
      // Text already shown would change; the decoder rewrites earlier text (e.g. a space
      // clean-up rule), so its output cannot be streamed piece by piece.
      throw new TokenizerError(
        "streaming decode: the tokenizer's decoder changed text it had already produced; " +
          "decode the whole sequence instead",
      );
    }
    const fresh = stable.slice(emitted.length);
    emitted = stable;
    return fresh;
  };

  return {
    ids,
    push(id) {
      const text = tokenizer.decode([...ids, id], options); // throws before a bad id is kept
      ids.push(id);
      return emitUpTo(text, true);
    },
    flush() {
      return emitUpTo(tokenizer.decode(ids, options), false);
    },
  };
}
