"""The rotary numbers of a YaRN fixture, written into its reference.json and README for moec to check against."""

import math

import torch
from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS


def yarn_float64(config):
    """transformers 4.57.6's _compute_yarn_parameters redone in float64 (HF computes inv_freq in float32)."""
    scaling = config.rope_scaling
    dim = config.head_dim  # DeepSeek-V3's config sets head_dim = qk_rope_head_dim; no partial rotary here
    base, factor = config.rope_theta, scaling["factor"]
    original = scaling.get("original_max_position_embeddings") or config.max_position_embeddings
    beta_fast, beta_slow = scaling.get("beta_fast") or 32, scaling.get("beta_slow") or 1

    def correction_dim(rotations):
        return dim * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(base))

    low = max(math.floor(correction_dim(beta_fast)), 0)  # truncate defaults to True
    high = min(math.ceil(correction_dim(beta_slow)), dim - 1)
    if low == high:
        high += 0.001
    inv_freq = []
    for i in range(dim // 2):
        extrapolation = 1.0 / base ** (2 * i / dim)
        keep = 1 - min(max((i - low) / (high - low), 0.0), 1.0)  # 1: unscaled, 0: divided by factor
        inv_freq.append(extrapolation / factor * (1 - keep) + extrapolation * keep)
    return inv_freq, {"low": low, "high": high}


def describe(model):
    """rope_scaling as saved, inv_freq and cos/sin factor from transformers' own yarn init, the softmax
    scale the attention uses; checked against what the model itself holds."""
    config = model.config
    inv_freq, attention_factor = ROPE_INIT_FUNCTIONS["yarn"](config, torch.device("cpu"))
    rotary = model.model.rotary_emb
    assert torch.equal(rotary.inv_freq.float(), inv_freq) and rotary.attention_scaling == attention_factor
    softmax_scale = model.model.layers[0].self_attn.scaling
    assert all(layer.self_attn.scaling == softmax_scale for layer in model.model.layers)
    exact, ramp = yarn_float64(config)
    return {
        "rope_scaling": config.rope_scaling,
        "inv_freq": inv_freq.double().tolist(),
        "inv_freq_float64_formula": exact,
        "ramp_low_high": [ramp["low"], ramp["high"]],
        "attention_factor": attention_factor,
        "softmax_scale": softmax_scale,
    }
