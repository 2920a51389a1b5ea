"""How far HF's "float64" reference is from pure float64 (a measurement, not part of make.sh).

transformers 4.57.6 keeps float32 islands even in a float64 model: RMSNorm casts to float32, the
router and attention softmaxes use dtype=float32, rotary cos/sin come from a float32 inv_freq via
.float(), and DeepSeek-V3's router runs in float32. This rebuilds each committed fixture in float64,
turns every float64 -> float32 cast into a no-op and recomputes inv_freq in float64, then prints the
rel. L2 distance of those logits from reference.json.
Run: .venv-hf/bin/python scripts/hf-fixtures/measure_islands.py
"""

import contextlib
import json
import sys

import torch
import torch.nn.functional as F

import make_fixtures  # noqa: F401  (installs the transformers import shim and finds the fixtures)
from make_fixtures import OUT
import rope  # noqa: E402
from transformers import AutoModelForCausalLM


@contextlib.contextmanager
def no_float32_casts():
    original = torch.Tensor.to, torch.Tensor.type, torch.Tensor.float, F.softmax

    def wants_float32(args, kwargs):
        target = args[0] if args else kwargs.get("dtype")
        return target is torch.float32 or target == "torch.FloatTensor"

    def to(self, *args, **kwargs):
        if self.dtype == torch.float64 and wants_float32(args, kwargs):
            return self
        return original[0](self, *args, **kwargs)

    def type_(self, *args, **kwargs):
        if self.dtype == torch.float64 and wants_float32(args, kwargs):
            return self
        return original[1](self, *args, **kwargs)

    def softmax(x, dim=None, _stacklevel=3, dtype=None):
        return original[3](x, dim=dim, dtype=None if x.dtype == torch.float64 else dtype)

    torch.Tensor.to, torch.Tensor.type = to, type_
    torch.Tensor.float = lambda self, *a, **k: original[0](self, torch.float64)
    F.softmax = softmax
    try:
        yield
    finally:
        torch.Tensor.to, torch.Tensor.type, torch.Tensor.float, F.softmax = original


def main():
    torch.set_num_threads(1)
    for folder in sorted(p for p in OUT.iterdir() if (p / "reference.json").exists()):
        reference = json.loads((folder / "reference.json").read_text())
        model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float64).eval()
        rotary = model.model.rotary_emb
        dim, base = rotary.inv_freq.numel() * 2, model.config.rope_theta
        if model.config.rope_scaling:  # the *_yarn fixtures
            rotary.inv_freq = torch.tensor(rope.yarn_float64(model.config)[0], dtype=torch.float64)
        else:
            rotary.inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
        with torch.no_grad(), no_float32_casts():
            logits = model(torch.tensor([reference["input_ids"]])).logits[0]
        expected = torch.tensor(reference["logits"], dtype=torch.float64)
        assert logits.dtype == torch.float64
        print(f"{folder.name:16s} rel. L2 (pure float64 vs reference.json): "
              f"{((logits - expected).norm() / expected.norm()).item():.3g}")


if __name__ == "__main__":
    sys.exit(main())
