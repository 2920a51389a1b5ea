"""Writes the Hugging Face reference fixtures under test/fixtures/hf/ (run through make.sh, not directly).

Each fixture is a tiny random model saved with save_pretrained, a shared byte-level BPE tokenizer,
and reference.json: float64 logits of a fixed prompt, the experts each token chose, and a 24-token
greedy continuation, all from transformers itself. See test/fixtures/hf/README.md.
"""

import copy
import hashlib
import json
import os
import subprocess
import sys
import types
from pathlib import Path

# transformers 4.57.6 refuses to import next to huggingface-hub 1.x (the only one on the local
# index) through an import-time version check; nothing used here (local save/load) needs hub < 1.
_shim = types.ModuleType("transformers.dependency_versions_check")
_shim.dep_version_check = lambda pkg, hint=None: None
sys.modules["transformers.dependency_versions_check"] = _shim

import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from configs import PROMPT, YARN, architecture, config_fields  # noqa: E402
import rope  # noqa: E402
import routing  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "hf"
TRANSFORMERS_VERSION = "4.57.6"
EOS = "<|endoftext|>"
VOCAB = 384
NEW_TOKENS = 24
MIN_GAP = 1e-3
MATRIX_STD = 0.15  # router logits then spread by ~1.2, so top-k choices are far from ties
BIAS_STD = 0.1
SELECTION_BIAS_STD = 0.25

ARCHS = {
    "mixtral": transformers.MixtralForCausalLM,
    "qwen2_moe": transformers.Qwen2MoeForCausalLM,
    "qwen3_moe": transformers.Qwen3MoeForCausalLM,
    "olmoe": transformers.OlmoeForCausalLM,
    "deepseek_v3": transformers.DeepseekV3ForCausalLM,
}
CONFIGS = {
    "mixtral": transformers.MixtralConfig,
    "qwen2_moe": transformers.Qwen2MoeConfig,
    "qwen3_moe": transformers.Qwen3MoeConfig,
    "olmoe": transformers.OlmoeConfig,
    "deepseek_v3": transformers.DeepseekV3Config,
}
FIXTURES = list(ARCHS) + list(YARN)
# A YaRN fixture starts at its architecture's chosen seed, so it has the same weights if that seed passes.
BASE_SEED = {"mixtral": 1000, "qwen2_moe": 2000, "qwen3_moe": 3000, "olmoe": 4000, "deepseek_v3": 5000,
             "qwen3_moe_yarn": 3002, "deepseek_v3_yarn": 5002}
HALF = {"mixtral_bf16": torch.bfloat16, "mixtral_f16": torch.float16}
SHARD_SIZE = {"qwen2_moe": "400KB"}
# The tokenizer is trained on README.md as of this commit, so later README edits change no fixture.
README_COMMIT = "96969f204bb15e1178b228b119c6511d4f7616c5"


def train_tokenizer():
    """Byte-level BPE with 384 entries trained on the repository's README.md at README_COMMIT."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{README_COMMIT}:README.md"], check=True,
                          capture_output=True, text=True).stdout
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=VOCAB, special_tokens=[EOS], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator([text], trainer=trainer)
    assert tokenizer.get_vocab_size() == VOCAB, tokenizer.get_vocab_size()
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, bos_token=EOS)


def build_model(name, tokenizer, seed):
    """A random float32 model, re-drawn so router choices and greedy picks are well separated."""
    eos = tokenizer.convert_tokens_to_ids(EOS)
    arch = architecture(name)
    config = CONFIGS[arch](vocab_size=VOCAB, bos_token_id=eos, eos_token_id=eos, **config_fields(name))
    torch.manual_seed(seed)
    model = ARCHS[arch]._from_config(config, attn_implementation="eager", dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():  # tied weights appear once
            noise = torch.randn(param.shape, generator=generator, dtype=torch.float64)
            if "norm" in name:
                value = 1.0 + 0.1 * noise
            elif name.endswith(".bias"):
                value = BIAS_STD * noise
            else:
                value = MATRIX_STD * noise
            param.copy_(value.to(param.dtype))
        for name, buffer in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                # Non-negative, like real checkpoints: biased scores stay positive, so HF's masking of
                # other groups with 0.0 equals masking with -inf.
                noise = torch.randn(buffer.shape, generator=generator, dtype=torch.float64)
                buffer.copy_((SELECTION_BIAS_STD * noise.abs()).to(buffer.dtype))
    model.eval()
    return model


def evaluate(model64, input_ids, k):
    """Float64 logits, greedy continuation, routing and gaps of a float64 model."""
    with torch.no_grad(), routing.float64_router_weights(model64):
        with routing.capture(model64) as records:
            logits = model64(input_ids).logits[0]
        experts, selection_gap, order_gap, _ = routing.analyse(model64, records, k)
        generated = model64.generate(input_ids, do_sample=False, max_new_tokens=NEW_TOKENS, eos_token_id=None,
                                     pad_token_id=0, attention_mask=torch.ones_like(input_ids))
        greedy = generated[0, input_ids.shape[1]:]
        assert greedy.numel() == NEW_TOKENS
        # Everything the model consumes while generating: the prompt and all new tokens but the last.
        consumed = generated[:, :-1]
        with routing.capture(model64) as records:
            full_logits = model64(consumed).logits[0]
        sequence_experts, seq_selection_gap, seq_order_gap, counts = routing.analyse(model64, records, k)
    steps = full_logits[input_ids.shape[1] - 1:]
    assert torch.equal(steps.argmax(dim=-1), greedy), "greedy differs from argmax of the full forward"
    top2 = steps.topk(2, dim=-1).values
    return {
        "logits": logits,
        "experts": experts,
        "sequence_experts": sequence_experts,
        "greedy": greedy.tolist(),
        "min_gap": min(selection_gap, seq_selection_gap),
        "min_order_gap": min(order_gap, seq_order_gap),
        "min_greedy_logit_gap": (top2[:, 0] - top2[:, 1]).min().item(),
        "counts": counts,
    }


GAPS = ("min_gap", "min_order_gap", "min_greedy_logit_gap")


def separated(result):
    return all(result[key] > MIN_GAP for key in GAPS)


def rounded(model, dtype):
    """The model with its weights rounded to dtype but still float32 (model.to(dtype) would also round
    the rotary inv_freq buffer, which a checkpoint never holds)."""
    copied = copy.deepcopy(model)
    with torch.no_grad():
        for param in copied.parameters():
            param.copy_(param.to(dtype).to(param.dtype))
    return copied


def rel_l2(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def format_json(value, indent=0):
    """JSON with one line per innermost list; floats via repr (shortest round-trip, full float64)."""
    pad = " " * indent
    if isinstance(value, dict):
        items = [f'{pad}  {json.dumps(key)}: {format_json(item, indent + 2).lstrip()}' for key, item in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and isinstance(value[0], (list, dict)):
        items = [format_json(item, indent + 2) for item in value]
        return pad + "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return pad + json.dumps(value, allow_nan=False)


def write_fixture(name, model, tokenizer, input_ids, result, arch, seed, k):
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    model.save_pretrained(folder, safe_serialization=True, max_shard_size=SHARD_SIZE.get(name, "50GB"))
    tokenizer.save_pretrained(folder)
    dtype = next(model.parameters()).dtype

    # The files on disk are what the reference used: reload them in float64 and recompute.
    loaded = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float64).eval()
    again = evaluate(loaded, input_ids, k)
    assert torch.equal(again["logits"], result["logits"]), f"{name}: reloaded logits differ"
    assert again["greedy"] == result["greedy"] and again["experts"] == result["experts"], name
    assert AutoTokenizer.from_pretrained(folder)(PROMPT)["input_ids"] == input_ids[0].tolist(), name

    # HF in the checkpoint's own dtype, as a yardstick for moec's tolerances.
    native = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=dtype).eval()
    with torch.no_grad(), routing.capture(native) as records:
        native_logits = native(input_ids).logits[0]
    native_choice = {str(i): torch.topk(torch.softmax(out.double(), -1), k).indices.tolist()
                     if not isinstance(out, tuple) else out[0].tolist() for i, [(_, out)] in records.items()}
    mismatches = sum(sorted(a) != sorted(b) for layer, rows in result["experts"].items()
                     for a, b in zip(rows, native_choice[layer]))

    reference = {
        "architecture": arch,
        "model_class": type(model).__name__,
        "dtype": str(dtype).removeprefix("torch."),
        "seed": seed,
        "transformers": transformers.__version__,
        "torch": torch.__version__.split("+")[0],
        "prompt": PROMPT,
        "input_ids": input_ids[0].tolist(),
        "greedy": result["greedy"],
        "greedy_text": tokenizer.decode(result["greedy"]),
        "moe_layers": [int(layer) for layer in result["experts"]],
        "top_k": k,
        "min_gap": result["min_gap"],
        "min_order_gap": result["min_order_gap"],
        "min_greedy_logit_gap": result["min_greedy_logit_gap"],
        **result["counts"],
        "hf_native_dtype_rel_l2": rel_l2(native_logits, result["logits"]),
        "hf_native_dtype_expert_mismatches": mismatches,
        **({"rope": rope.describe(model)} if name in YARN else {}),
        "experts": result["experts"],
        "sequence_experts": result["sequence_experts"],
        "logits": result["logits"].tolist(),
    }
    (folder / "reference.json").write_text(format_json(reference) + "\n", encoding="utf-8")
    return folder


def make(fixture, tokenizer, input_ids):
    """Finds the first seed whose model (and half-precision copies, for Mixtral) is well separated."""
    arch = architecture(fixture)
    names = [fixture] + ([half for half in HALF] if fixture == "mixtral" else [])
    for attempt in range(100):
        seed = BASE_SEED[fixture] + attempt
        model = build_model(fixture, tokenizer, seed)
        k = model.config.num_experts_per_tok
        variants = {fixture: model}
        variants.update({half: rounded(model, dtype) for half, dtype in HALF.items() if fixture == "mixtral"})
        results = {name: evaluate(copy.deepcopy(variants[name]).double(), input_ids, k) for name in names}
        if all(separated(result) for result in results.values()):
            break
        worst = {key: min(r[key] for r in results.values()) for key in GAPS}
        print(f"{fixture}: seed {seed} has a near tie {worst}, trying the next", flush=True)
    else:
        raise SystemExit(f"{fixture}: no well-separated seed in 100 tries")
    if arch == "deepseek_v3":
        counts = results[fixture]["counts"]
        assert counts["bias_changes_choice"] > 0 and counts["group_limit_changes_choice"] > 0, counts
    for name in names:
        saved = variants[name].to(HALF[name]) if name in HALF else variants[name]
        folder = write_fixture(name, saved, tokenizer, input_ids, results[name], arch, seed, k)
        size = sum(f.stat().st_size for f in folder.iterdir())
        r = results[name]
        print(f"{name:13s} seed {seed}  {size / 1e6:.3f} MB  min_gap {r['min_gap']:.4g}  "
              f"min_order_gap {r['min_order_gap']:.4g}  greedy gap {r['min_greedy_logit_gap']:.4g}", flush=True)


def main():
    assert transformers.__version__ == TRANSFORMERS_VERSION, transformers.__version__
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tokenizer = train_tokenizer()
    input_ids = torch.tensor([tokenizer(PROMPT)["input_ids"]])
    assert 12 <= input_ids.shape[1] <= 20, f"prompt is {input_ids.shape[1]} tokens"
    only = sys.argv[1:] or FIXTURES
    unknown = [name for name in only if name not in FIXTURES]
    if unknown:
        raise SystemExit(f"unknown fixture {unknown}; choose from {FIXTURES}")
    for fixture in only:
        make(fixture, tokenizer, input_ids)
    digest = hashlib.sha256()
    for path in sorted(OUT.rglob("*")):
        if path.is_file() and path.name != "README.md":
            digest.update(path.relative_to(OUT).as_posix().encode() + b"\0" + path.read_bytes())
    print(f"sha256 of all fixture files: {digest.hexdigest()}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
