// A Hugging Face config.json as a .moe spec: the model's hyper-parameters become the defaults of
// a `model` over std/hf.moe, whose instances are named as the checkpoint names its modules, so the
// checkpoint's weights load as they are. Anything the spec cannot express is refused by name.

/** What import-hf reports when a config cannot be imported. */
export class HfConfigError extends Error {}

/** The std/hf.moe HFModel arguments of one architecture, plus the spec's head. */
interface ImportedModel {
  readonly name: string;
  readonly modelType: string;
  readonly vocab: number;
  readonly dim: number;
  readonly tied: boolean;
  /** HFModel's arguments, in order, as `.moe` literals. */
  readonly args: readonly (readonly [string, string])[];
}

type Config = Readonly<Record<string, unknown>>;

const SUPPORTED = ["mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "deepseek_v3"] as const;

/** The .moe source of a config; `source` names the file in messages and the spec's header. */
export function importHfConfig(config: unknown, source = "config.json"): string {
  const imported = importModel(config, source);
  return printSpec(imported, source);
}

function importModel(raw: unknown, source: string): ImportedModel {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new HfConfigError(`${source}: expected a JSON object`);
  const c = raw as Config;
  const field = fields(c, source);
  const modelType = field.string("model_type");
  if (!(SUPPORTED as readonly string[]).includes(modelType))
    throw new HfConfigError(
      `${source}: model_type "${modelType}" is not supported; supported: ${SUPPORTED.join(", ")}`,
    );
  field.expect("hidden_act", (v) => v === "silu", 'must be "silu"');
  field.expect(
    "partial_rotary_factor",
    (v) => v === undefined || v === null || v === 1,
    "must be 1 (partial rotary positions are not supported)",
  );
  field.expect(
    "sliding_window",
    (v) => v === null || v === undefined || c["use_sliding_window"] === false,
    "must be null (sliding-window attention is not supported)",
  );
  const heads = field.int("num_attention_heads");
  const dim = field.int("hidden_size");
  const vocab = field.int("vocab_size");
  const headDim =
    modelType === "deepseek_v3"
      ? 0
      : c["head_dim"] === undefined || c["head_dim"] === null
        ? dim / heads
        : field.int("head_dim");
  if (!Number.isInteger(headDim) || (headDim === 0 && modelType !== "deepseek_v3"))
    throw new HfConfigError(
      `${source}: hidden_size (${dim}) is not divisible by num_attention_heads (${heads}) and head_dim is not given`,
    );
  const common: [string, string][] = [
    ["vocab", String(vocab)],
    ["dim", String(dim)],
    ["n_layers", String(field.int("num_hidden_layers"))],
    ["heads", String(heads)],
    ["kv_heads", String(field.intOr("num_key_value_heads", heads))],
    ["head_dim", String(headDim || dim / heads)],
    ["rope_base", float(field.number("rope_theta"))],
    ["eps", float(field.number("rms_norm_eps"))],
    ...ropeScalingArgs(c, source),
  ];
  /** A positive integer field as a .moe literal. */
  const count = (n: string) => String(field.int(n));
  const gating = (renorm: boolean) => `"${renorm ? "renorm" : "softmax"}"`;
  const noDenseLayers = () =>
    field.expect(
      "mlp_only_layers",
      (v) => v === undefined || (Array.isArray(v) && v.length === 0),
      "must be empty (dense layers at chosen indices are not supported)",
    );
  let specific: [string, string][];
  switch (modelType as (typeof SUPPORTED)[number]) {
    case "mixtral":
      specific = [
        ["dense_ffn", count("intermediate_size")],
        ["n_experts", count("num_local_experts")],
        ["top_k", count("num_experts_per_tok")],
        ["moe_ffn", count("intermediate_size")],
        ["moe_name", '"block_sparse_moe"'],
        ["gating", '"softmax_topk"'],
        ["proj_names", '"w1,w3,w2"'],
      ];
      break;
    case "qwen2_moe":
      noDenseLayers();
      specific = [
        ["dense_ffn", count("intermediate_size")],
        ["n_experts", count("num_experts")],
        ["top_k", count("num_experts_per_tok")],
        ["moe_ffn", count("moe_intermediate_size")],
        ["qkv_bias", "true"],
        ["gating", gating(field.bool("norm_topk_prob"))],
        ["shared_ffn", count("shared_expert_intermediate_size")],
        ["shared_name", '"shared_expert"'],
        ["moe_every", count("decoder_sparse_step")],
      ];
      break;
    case "qwen3_moe":
      noDenseLayers();
      field.expect("attention_bias", (v) => v === undefined || v === false, "must be false");
      specific = [
        ["dense_ffn", count("intermediate_size")],
        ["n_experts", count("num_experts")],
        ["top_k", count("num_experts_per_tok")],
        ["moe_ffn", count("moe_intermediate_size")],
        ["qk_norm", '"head"'],
        ["gating", gating(field.bool("norm_topk_prob"))],
        ["moe_every", count("decoder_sparse_step")],
      ];
      break;
    case "deepseek_v3": {
      field.expect("topk_method", (v) => v === undefined || v === "noaux_tc", 'must be "noaux_tc"');
      field.expect("scoring_func", (v) => v === undefined || v === "sigmoid", 'must be "sigmoid"');
      field.expect("attention_bias", (v) => v === undefined || v === false, "must be false");
      field.expect("moe_layer_freq", (v) => v === undefined || v === 1, "must be 1");
      const qLora =
        c["q_lora_rank"] === null || c["q_lora_rank"] === undefined ? 0 : field.int("q_lora_rank");
      specific = [
        ["dense_ffn", count("intermediate_size")],
        ["n_experts", count("n_routed_experts")],
        ["top_k", count("num_experts_per_tok")],
        ["moe_ffn", count("moe_intermediate_size")],
        ["gating", '"sigmoid"'],
        ["groups", count("n_group")],
        ["topk_groups", count("topk_group")],
        ["selection_bias", "true"],
        ["renorm", String(field.bool("norm_topk_prob"))],
        ["scale", float(field.number("routed_scaling_factor"))],
        ["shared_ffn", String(field.int("n_shared_experts") * field.int("moe_intermediate_size"))],
        ["first_dense", String(field.intOr("first_k_dense_replace", 0))],
        ["attention", '"mla"'],
        ["q_lora_rank", String(qLora)],
        ["kv_lora_rank", count("kv_lora_rank")],
        ["qk_nope_dim", count("qk_nope_head_dim")],
        ["qk_rope_dim", count("qk_rope_head_dim")],
        ["v_head_dim", count("v_head_dim")],
        ["rope_interleave", String(c["rope_interleave"] !== false)],
      ];
      break;
    }
    case "olmoe":
      field.expect(
        "clip_qkv",
        (v) => v === null || v === undefined,
        "must be null (clipping q, k, v is not supported)",
      );
      field.expect("attention_bias", (v) => v === undefined || v === false, "must be false");
      specific = [
        ["dense_ffn", count("intermediate_size")],
        ["n_experts", count("num_experts")],
        ["top_k", count("num_experts_per_tok")],
        ["moe_ffn", count("intermediate_size")],
        ["qk_norm", '"full"'],
        ["gating", gating(field.bool("norm_topk_prob"))],
      ];
      break;
  }
  const architectures = c["architectures"];
  const className =
    Array.isArray(architectures) && typeof architectures[0] === "string"
      ? architectures[0]
      : modelType;
  return {
    name: className.replace(/[^A-Za-z0-9_]/g, "_"),
    modelType,
    vocab,
    dim,
    tied: c["tie_word_embeddings"] === true,
    args: [...common, ...specific],
  };
}

/**
 * rope_scaling as the spec's rope_* arguments: "linear" and "yarn" (as transformers computes
 * them); any other kind, or an option moec does not implement, is refused by name.
 */
function ropeScalingArgs(c: Config, source: string): [string, string][] {
  const scaling = c["rope_scaling"];
  if (scaling === null || scaling === undefined) return [];
  const refuse = (why: string): never => {
    throw new HfConfigError(`${source}: field "rope_scaling" ${why}`);
  };
  if (typeof scaling !== "object" || Array.isArray(scaling))
    return refuse("must be an object or null");
  const s = scaling as Record<string, unknown>;
  const type = s["rope_type"] ?? s["type"];
  if (type === "default") return [];
  if (type !== "linear" && type !== "yarn")
    return refuse(`has type ${JSON.stringify(type)}; supported: "linear", "yarn"`);
  const number = (key: string, fallback?: number): number => {
    const v = s[key] ?? fallback;
    return typeof v === "number" && Number.isFinite(v) && v > 0
      ? v
      : refuse(`needs a positive number "${key}", got ${JSON.stringify(s[key])}`);
  };
  const args: [string, string][] = [
    ["rope_type", `"${type}"`],
    ["rope_factor", float(number("factor"))],
  ];
  if (type === "linear") return args;
  if (s["attention_factor"] !== undefined && s["attention_factor"] !== null)
    return refuse(
      "sets attention_factor, which moec does not support (it derives it from factor and mscale)",
    );
  if (s["truncate"] === false) return refuse("sets truncate = false, which moec does not support");
  const maxPositions =
    typeof c["max_position_embeddings"] === "number" ? c["max_position_embeddings"] : undefined;
  const optional = (key: string) => (s[key] === undefined || s[key] === null ? 0 : number(key));
  return [
    ...args,
    [
      "rope_original_max",
      String(Math.round(number("original_max_position_embeddings", maxPositions))),
    ],
    ["rope_beta_fast", float(optional("beta_fast") || 32)],
    ["rope_beta_slow", float(optional("beta_slow") || 1)],
    ["rope_mscale", float(optional("mscale"))],
    ["rope_mscale_all_dim", float(optional("mscale_all_dim"))],
  ];
}

function printSpec(m: ImportedModel, source: string): string {
  const params = m.args.map(([name, value]) => `${name}: ${typeOf(value)} = ${value}`);
  const args = m.args.map(([name]) => `${name} = ${name}`);
  const head = m.tied
    ? `Linear(dim, vocab, bias = false, tie = "model.embed_tokens.weight")`
    : "Linear(dim, vocab, bias = false)";
  return [
    `// Imported by \`moec import-hf\` from ${source} (model_type "${m.modelType}"). Instances are`,
    "// named as the checkpoint names its modules, so its weights load as they are.",
    'import "std/hf.moe"',
    "",
    `model ${m.name}(${params.join(",\n    ")}) {`,
    `  model = HFModel(${args.join(", ")})`,
    `  lm_head = ${head}`,
    "",
    "  forward(ids: i32[T]) -> logits: f32[T, vocab] {",
    "    return lm_head(model(ids))",
    "  }",
    "}",
    "",
  ].join("\n");
}

function typeOf(literal: string): string {
  if (literal.startsWith('"')) return "string";
  if (literal === "true" || literal === "false") return "bool";
  return literal.includes(".") || literal.includes("e") ? "float" : "int";
}

/** A float literal the .moe lexer reads back exactly (always with a point or an exponent). */
function float(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function fields(c: Config, source: string) {
  const fail = (name: string, why: string): never => {
    throw new HfConfigError(
      `${source}: field "${name}" ${why}, got ${JSON.stringify(c[name]) ?? "nothing"}`,
    );
  };
  const int = (name: string): number => {
    const v = c[name];
    return typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 2 ** 31 - 1
      ? v
      : fail(name, "must be a positive integer");
  };
  return {
    int,
    intOr: (name: string, fallback: number) =>
      c[name] === undefined || c[name] === null ? fallback : int(name),
    number: (name: string): number => {
      const v = c[name];
      return typeof v === "number" && Number.isFinite(v) && v > 0
        ? v
        : fail(name, "must be a positive number");
    },
    bool: (name: string): boolean => {
      const v = c[name];
      return typeof v === "boolean" ? v : fail(name, "must be true or false");
    },
    string: (name: string): string => {
      const v = c[name];
      return typeof v === "string" ? v : fail(name, "must be a string");
    },
    expect: (name: string, ok: (v: unknown) => boolean, why: string): void => {
      if (!ok(c[name])) fail(name, why);
    },
  };
}
