"""Writes grads.safetensors and grads.json into each f32 fixture of test/fixtures/hf/ (run by
make.sh, after the fixtures): the gradient of the fixture prompt's mean next-token cross-entropy with respect to
every parameter, by torch autograd on transformers' own model in float64 (eval mode: no dropout,
no router noise). moec's training graphs are checked against it (test/hf/training.test.ts).

Targets: targets[t] = input_ids[t + 1], and the last target is input_ids[0]. The loss is the plain
mean cross-entropy over the prompt's positions, without any router auxiliary loss (transformers'
and moec's balance terms are defined differently; moec's is checked against its own reference).
"""

import json
import sys
import types
from pathlib import Path

_shim = types.ModuleType("transformers.dependency_versions_check")
_shim.dep_version_check = lambda pkg, hint=None: None
sys.modules["transformers.dependency_versions_check"] = _shim

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import routing  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "test" / "fixtures" / "hf"
NAMES = ["mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "deepseek_v3", "qwen3_moe_yarn", "deepseek_v3_yarn"]


def main():
    names = sys.argv[1:] or NAMES
    for name in names:
        folder = FIXTURES / name
        reference = json.loads((folder / "reference.json").read_text())
        ids = reference["input_ids"]
        targets = ids[1:] + ids[:1]
        model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float64)
        model.eval()
        with torch.enable_grad(), routing.float64_router_weights(model):
            logits = model(torch.tensor([ids])).logits[0]
            loss = F.cross_entropy(logits, torch.tensor(targets))
            loss.backward()
        grads = {}
        for param_name, param in model.named_parameters():  # tied weights appear once
            # An expert no prompt token chose gets no gradient at all: zeros.
            grad = torch.zeros_like(param) if param.grad is None else param.grad.detach()
            grads[param_name] = grad.to(torch.float32).contiguous()
        save_file(grads, str(folder / "grads.safetensors"))
        summary = {
            "input_ids": ids,
            "targets": targets,
            "loss": loss.item(),
            "grad_norm": torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())).item(),
        }
        (folder / "grads.json").write_text(json.dumps(summary, indent=1) + "\n")
        print(f"{name}: loss {summary['loss']:.6f}, |grad| {summary['grad_norm']:.6f}, {len(grads)} tensors")


if __name__ == "__main__":
    main()
