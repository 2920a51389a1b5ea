"""The tiny configs of each fixture: one shared shape, each architecture's own fields on top."""

PROMPT = "Experts of the model run on the device."

# Shared by every architecture that has the field.
SHARED = dict(
    hidden_size=64,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    num_hidden_layers=3,
    intermediate_size=96,
    max_position_embeddings=256,
    rope_theta=10000.0,
    rope_scaling=None,
    rms_norm_eps=1e-6,
    tie_word_embeddings=False,
    hidden_act="silu",
    pad_token_id=None,
    attention_dropout=0.0,
)

EXPERT_WIDTH = 32


# Fixtures that are an architecture's fixture plus YaRN rotary scaling: name -> (architecture, rope_scaling).
# Context 64 stretched 4x to max_position_embeddings 256, so the prompt's 41 positions fall inside it.
YARN = {
    # As DeepSeek-V3 checkpoints write it: the legacy "type" key (the config adds "rope_type"), and
    # mscale == mscale_all_dim, so yarn's cos/sin factor is 1 and the softmax scale gains mscale**2.
    "deepseek_v3_yarn": ("deepseek_v3", {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64,
                                         "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0}),
    # As Qwen3 checkpoints write it: cos and sin are multiplied by 0.1 * ln(factor) + 1.
    "qwen3_moe_yarn": ("qwen3_moe", {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64}),
}


def architecture(name):
    """The architecture a fixture name builds (a YaRN fixture's name is its architecture's plus _yarn)."""
    return YARN[name][0] if name in YARN else name


def config_fields(name):
    """Keyword arguments for the fixture's config class (vocab and token ids are added later)."""
    if name in YARN:
        arch, rope_scaling = YARN[name]
        return dict(config_fields(arch), rope_scaling=dict(rope_scaling))  # a copy: configs edit it in place
    arch = name
    if arch == "mixtral":
        # Mixtral has no dense MLP: intermediate_size is the expert width.
        return dict(SHARED, intermediate_size=EXPERT_WIDTH, num_local_experts=8, num_experts_per_tok=2,
                    sliding_window=None, router_jitter_noise=0.0)
    if arch == "qwen2_moe":
        return dict(SHARED, moe_intermediate_size=EXPERT_WIDTH, shared_expert_intermediate_size=64,
                    num_experts=8, num_experts_per_tok=2, norm_topk_prob=False, decoder_sparse_step=1,
                    mlp_only_layers=[], qkv_bias=True, use_sliding_window=False)
    if arch == "qwen3_moe":
        return dict(SHARED, moe_intermediate_size=EXPERT_WIDTH, num_experts=8, num_experts_per_tok=2,
                    norm_topk_prob=True, decoder_sparse_step=1, mlp_only_layers=[], attention_bias=False,
                    use_sliding_window=False, tie_word_embeddings=True)
    if arch == "olmoe":
        # OLMoE has no dense MLP either; its head_dim is hidden/heads (16).
        fields = dict(SHARED, intermediate_size=EXPERT_WIDTH, num_experts=8, num_experts_per_tok=2,
                      norm_topk_prob=False, clip_qkv=None, attention_bias=False)
        del fields["head_dim"]
        return fields
    if arch == "deepseek_v3":
        # MLA: every head has its own keys, so kv heads = heads; the config itself sets head_dim = qk_rope_head_dim.
        fields = dict(SHARED, num_key_value_heads=4, q_lora_rank=None, kv_lora_rank=32, qk_rope_head_dim=8,
                      qk_nope_head_dim=8, v_head_dim=16, moe_intermediate_size=EXPERT_WIDTH, n_routed_experts=8,
                      num_experts_per_tok=2, n_group=2, topk_group=1, n_shared_experts=1,
                      routed_scaling_factor=2.5, first_k_dense_replace=1, norm_topk_prob=True,
                      rope_interleave=True, attention_bias=False)
        del fields["head_dim"]
        return fields
    raise ValueError(f"no config for {arch}")
