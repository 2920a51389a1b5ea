// Text <-> token ids for Hugging Face checkpoints: a thin wrapper over @huggingface/tokenizers
// (pure JS, browser-safe) that turns the library's bare exceptions into errors naming the file,
// and checks that a tokenizer fits the model it is paired with. Never a hand-written BPE.
import { Tokenizer } from "@huggingface/tokenizers";

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenizerError";
  }
}

export interface TextTokenizer {
  /** Token ids of `text`, with the tokenizer's own special tokens (e.g. BOS) unless told not to. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** Text of `ids`; special tokens are kept unless skipped. Throws on an id outside the vocabulary. */
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  /** Largest token id + 1, added tokens included: the smallest model vocabulary that fits. */
  readonly vocabSize: number;
  /** Ids that end generation (tokenizer_config's eos_token, else well-known EOS specials). */
  readonly eosIds: readonly number[];
  /** Throws a TokenizerError when this tokenizer can emit ids the model has no row for. */
  checkVocabulary(modelVocab: number): void;
}

// The model types the library implements faithfully. Anything else (WordLevel, say) would fall
// into its "Legacy" model, which maps whole words to ids and silently gives wrong ids.
const SUPPORTED_MODELS = ["BPE", "Unigram", "WordPiece"];

// Only used when no tokenizer_config names the EOS token: the spellings of common model families.
const KNOWN_EOS = ["</s>", "<|endoftext|>", "<|im_end|>", "<|end_of_text|>", "<|eot_id|>", "<eos>"];

export function loadTokenizer(
  json: string | object,
  config: object = {},
  source = "tokenizer.json",
): TextTokenizer {
  const spec = withDefaults(typeof json === "string" ? parseJson(json, source) : json, source);
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(spec, config);
  } catch (e) {
    // The library throws plain Errors ("Unknown Decoder type: X") or regex SyntaxErrors.
    throw new TokenizerError(
      `${source}: unsupported tokenizer: ${shorten(String(errorMessage(e)))}`,
    );
  }
  const vocab = tok.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const specials = [...tok.get_added_tokens_decoder()].filter(([, t]) => t.special);
  const eosIds = eosIdsOf(config, specials, (t) => tok.token_to_id(t));
  // Python `tokenizers` never "cleans up" spaces before punctuation; transformers does so only
  // when tokenizer_config asks. Following the config keeps decode(ids) a prefix of decode(more).
  const cleanUp =
    (config as { clean_up_tokenization_spaces?: unknown }).clean_up_tokenization_spaces === true;

  return {
    vocabSize,
    eosIds,
    encode(text, options = {}) {
      const { ids, tokens } = tok.encode(text, {
        add_special_tokens: options.addSpecialTokens ?? true,
      });
      const bad = ids.findIndex((id: number | undefined) => typeof id !== "number");
      if (bad >= 0) {
        // A BPE without byte fallback and without an unk token has no id for unseen characters.
        throw new TokenizerError(
          `${source}: cannot encode ${JSON.stringify(shorten(tokens[bad]))}: not in the vocabulary and no unk_token`,
        );
      }
      return ids;
    },
    decode(ids, options = {}) {
      if (ids.length === 0) return ""; // the library refuses empty input
      for (const id of ids) {
        if (!Number.isInteger(id) || tok.id_to_token(id) === undefined) {
          throw new TokenizerError(
            `${source}: token id ${id} is not in the vocabulary (ids 0..${vocabSize - 1}); ` +
              `does the tokenizer match the model?`,
          );
        }
      }
      return tok.decode([...ids], {
        skip_special_tokens: options.skipSpecialTokens ?? false,
        clean_up_tokenization_spaces: cleanUp,
      });
    },
    checkVocabulary(modelVocab) {
      if (vocabSize > modelVocab) {
        throw new TokenizerError(
          `${source}: token ids go up to ${vocabSize - 1}, but the model's vocabulary has only ` +
            `${modelVocab} rows: this tokenizer does not belong to this model`,
        );
      }
    },
  };
}

function eosIdsOf(
  config: object,
  specials: [number, { content: string }][],
  idOf: (token: string) => number | undefined,
): number[] {
  // tokenizer_config.json writes eos_token as a string or as an AddedToken object.
  const eos = (config as { eos_token?: unknown }).eos_token;
  const named = typeof eos === "string" ? eos : (eos as { content?: unknown } | null)?.content;
  if (typeof named === "string") {
    const id = idOf(named);
    return id === undefined ? [] : [id];
  }
  return specials.filter(([, t]) => KNOWN_EOS.includes(t.content)).map(([id]) => id);
}

/** A shallow copy with the checks the library lacks, and the keys it insists on filled in. */
function withDefaults(spec: unknown, source: string): object {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new TokenizerError(`${source}: expected a JSON object (a Hugging Face tokenizer.json)`);
  }
  const model = (spec as { model?: unknown }).model;
  if (model === null || typeof model !== "object") {
    throw new TokenizerError(
      `${source}: no "model" object; is this a Hugging Face tokenizer.json?`,
    );
  }
  const type = (model as { type?: unknown }).type;
  if (typeof type !== "string" || !SUPPORTED_MODELS.includes(type)) {
    throw new TokenizerError(
      `${source}: model.type ${shorten(JSON.stringify(type) ?? "missing")} is not supported ` +
        `(supported: ${SUPPORTED_MODELS.join(", ")})`,
    );
  }
  const added = (spec as { added_tokens?: unknown }).added_tokens;
  if (added !== undefined && !Array.isArray(added)) {
    throw new TokenizerError(`${source}: "added_tokens" must be a list`);
  }
  // Older files omit these keys; the library insists on their presence (null means "none").
  const defaults = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null };
  return { ...defaults, ...spec, added_tokens: added ?? [] };
}

/** JSON.parse with a message of our own: engines quote the input unescaped, and differ. */
function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    // V8 appends `, "<excerpt>" is not valid JSON`; keep only the reason before it.
    const reason = String(errorMessage(e))
      .split(', "')[0]
      .replace(/( in JSON)? at position \d+/, "");
    const at = /position (\d+)/.exec(String(errorMessage(e)));
    if (!at) throw new TokenizerError(`${source}: not valid JSON: ${shorten(reason)}`);
    const pos = Number(at[1]);
    const before = text.slice(0, pos);
    const line = before.split("\n").length;
    const col = pos - before.lastIndexOf("\n");
    const excerpt = shorten(text.slice(Math.max(0, pos - 20), pos + 20));
    throw new TokenizerError(
      `${source}:${line}:${col}: not valid JSON: ${shorten(reason)} near "${excerpt}"`,
    );
  }
}

function errorMessage(e: unknown): unknown {
  return e instanceof Error ? e.message : e;
}

/** At most 80 characters, control characters escaped, so a message never dumps a file. */
function shorten(text: string): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === "\n" ? "\\n" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return escaped.length > 80 ? `${escaped.slice(0, 77)}...` : escaped;
}
