"""Exports the Mixtral models of `npm run bench:generate` to ONNX with a KV cache (the peer's graphs).

    scripts/hf-fixtures/make.sh mixtral    # once: creates .venv-hf/ (torch, transformers)
    .venv-hf/bin/pip install onnx==1.23.1 onnxscript==0.7.2 onnxruntime==1.30.0
    OMP_NUM_THREADS=1 .venv-hf/bin/python scripts/hf-fixtures/export_onnx.py [mixtral_tiny] [mixtral_256]

The output is the same byte for byte on every run (about 90 s here).

Writes bench/onnx/<model>/: config.json (the Hugging Face config), model.onnx (the graph; every
weight is external data in weights.bin, which is NOT written) and weights.json (where each weight
lies in weights.bin and which checkpoint tensor it is). The bench writes weights.bin itself from
the very tensors moec runs (a checkpoint, or moec's seeded random weights), so both engines run
the same model, the committed files stay small and the bench needs no Python.

The graph is torch.onnx.export of a forward over the Hugging Face model's own modules (embedding,
RMSNorms, q/k/v/o and router Linears, HF's apply_rotary_pos_emb and repeat_kv) with past keys and
values as inputs and present ones as outputs, so the peer decodes incrementally. Two parts are
written out rather than traced from HF: attention is the eager softmax(QK^T/sqrt(d) + causal mask)V
with the mask built from the positions (HF builds it outside the layers), and the sparse MoE block
gathers each token's top-k experts from stacked weights (HF loops over the experts that were hit,
which tracing would freeze to the experts of the example input). Before writing, the export is
checked on onnxruntime (CPU) against HF: prompt logits within rel. L2 1e-5 and 24 greedy tokens
decoded through the cache identical to HF's generate.
"""

import json
import sys
import types
from pathlib import Path

_shim = types.ModuleType("transformers.dependency_versions_check")  # see make_fixtures.py
_shim.dep_version_check = lambda pkg, hint=None: None
sys.modules["transformers.dependency_versions_check"] = _shim

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime  # noqa: E402
import onnxscript.optimizer  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from transformers import MixtralConfig, MixtralForCausalLM  # noqa: E402
from transformers.models.mixtral.modeling_mixtral import apply_rotary_pos_emb, repeat_kv  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "onnx"
WEIGHTS_FILE = "weights.bin"
OPSET = 18
NEW_TOKENS = 24

# The bench's models: the committed tiny fixture (its own weights) and a larger Mixtral shape.
MODELS = {
    "mixtral_tiny": {"fixture": ROOT / "test" / "fixtures" / "hf" / "mixtral"},
    "mixtral_256": {
        "config": dict(vocab_size=4096, hidden_size=256, num_hidden_layers=4, num_attention_heads=8,
                       num_key_value_heads=4, head_dim=32, intermediate_size=512, num_local_experts=8,
                       num_experts_per_tok=2, max_position_embeddings=256, rope_theta=10000.0,
                       rms_norm_eps=1e-6, sliding_window=None, router_jitter_noise=0.0,
                       tie_word_embeddings=False, bos_token_id=0, eos_token_id=0, pad_token_id=None),
        "seed": 256,
    },
}


class CachedMixtral(nn.Module):
    """HF Mixtral's forward over explicit KV tensors: (ids, positions, past k/v per layer) ->
    (logits, present k/v per layer). Batch 1; positions must continue the past (P, P+1, ...)."""

    def __init__(self, hf: MixtralForCausalLM):
        super().__init__()
        self.hf = hf
        c = hf.config
        self.heads, self.kv_heads = c.num_attention_heads, c.num_key_value_heads
        self.head_dim = c.head_dim or c.hidden_size // c.num_attention_heads
        self.top_k = c.num_experts_per_tok
        # One [E, out, in] tensor per projection and layer: the layout of moec's `experts.{e}` weights.
        stack = lambda layer, proj: nn.Parameter(torch.stack(
            [getattr(e, proj).weight.detach() for e in layer.block_sparse_moe.experts]))
        self.w1 = nn.ParameterList([stack(layer, "w1") for layer in hf.model.layers])
        self.w3 = nn.ParameterList([stack(layer, "w3") for layer in hf.model.layers])
        self.w2 = nn.ParameterList([stack(layer, "w2") for layer in hf.model.layers])

    def forward(self, input_ids, position_ids, past):
        m = self.hf.model
        x = m.embed_tokens(input_ids)
        cos, sin = m.rotary_emb(x, position_ids)
        past_len = past[0].shape[2]
        keys = torch.arange(past_len + input_ids.shape[1])
        mask = torch.where(keys[None, :] <= position_ids[0][:, None], 0.0, float("-inf"))
        present = []
        for i, layer in enumerate(m.layers):
            h = layer.input_layernorm(x)
            attn, k, v = self.attention(layer.self_attn, h, cos, sin, mask, past[2 * i], past[2 * i + 1])
            present += [k, v]
            x = x + attn
            x = x + self.moe(i, layer.block_sparse_moe, layer.post_attention_layernorm(x))
        return self.hf.lm_head(m.norm(x)), present

    def attention(self, a, h, cos, sin, mask, past_k, past_v):
        t = h.shape[1]
        q = a.q_proj(h).view(1, t, self.heads, self.head_dim).transpose(1, 2)
        k = a.k_proj(h).view(1, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = a.v_proj(h).view(1, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        groups = self.heads // self.kv_heads
        scores = q @ repeat_kv(k, groups).transpose(2, 3) * self.head_dim**-0.5 + mask
        out = torch.softmax(scores, dim=-1) @ repeat_kv(v, groups)
        return a.o_proj(out.transpose(1, 2).reshape(1, t, -1)), k, v

    def moe(self, i, block, h):
        x = h[0]  # [T, D]
        probs = torch.softmax(block.gate(x), dim=-1)
        weights, chosen = torch.topk(probs, self.top_k, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        t, k = chosen.shape
        picked = lambda w: torch.index_select(w, 0, chosen.reshape(-1)).view(t, k, *w.shape[1:])
        column = lambda v: v[:, None, :, None]  # [T, 1, features, 1] against [T, k, out, features]
        up = torch.matmul(picked(self.w1[i]), column(x)).squeeze(-1)
        gate = torch.matmul(picked(self.w3[i]), column(x)).squeeze(-1)
        out = torch.matmul(picked(self.w2[i]), (nn.functional.silu(up) * gate)[..., None]).squeeze(-1)
        return (out * weights[..., None]).sum(dim=1)[None]


class Flat(nn.Module):
    """CachedMixtral with flat inputs and outputs, as ONNX names them."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, position_ids, *past):
        logits, present = self.model(input_ids, position_ids, list(past))
        return (logits, *present)


def build(spec):
    if "fixture" in spec:
        model = MixtralForCausalLM.from_pretrained(spec["fixture"], attn_implementation="eager", dtype=torch.float32)
    else:
        config = MixtralConfig(**spec["config"])
        torch.manual_seed(spec["seed"])
        model = MixtralForCausalLM._from_config(config, attn_implementation="eager", dtype=torch.float32)
        generator = torch.Generator().manual_seed(spec["seed"])
        with torch.no_grad():  # larger than HF's init (std 0.02), so routing and greedy picks are not ties
            for pname, param in model.named_parameters():
                noise = torch.randn(param.shape, generator=generator)
                param.copy_(1.0 + 0.1 * noise if "norm" in pname else 0.1 * noise)
    return model.eval()


def io_names(layers):
    past = [f"past_{kind}.{i}" for i in range(layers) for kind in ("key", "value")]
    present = [f"present_{kind}.{i}" for i in range(layers) for kind in ("key", "value")]
    return ["input_ids", "position_ids", *past], ["logits", *present], past


def export(hf):
    c = hf.config
    layers, kv_heads = c.num_hidden_layers, c.num_key_value_heads
    head_dim = c.head_dim or c.hidden_size // c.num_attention_heads
    wrapped = Flat(CachedMixtral(hf)).eval()
    inputs, outputs, past_names = io_names(layers)
    example = (torch.tensor([[1, 2, 3]]), torch.tensor([[2, 3, 4]]),
               *[torch.zeros(1, kv_heads, 2, head_dim) for _ in past_names])
    t, p = torch.export.Dim("tokens", max=4096), torch.export.Dim("past", max=4096)
    shapes = ({1: t}, {1: t}, tuple({2: p} for _ in past_names))  # *past: one group
    with torch.no_grad():
        program = torch.onnx.export(wrapped, example, input_names=inputs, output_names=outputs,
                                    dynamic_shapes=shapes, opset_version=OPSET, dynamo=True, verbose=False,
                                    optimize=False)
    # onnxscript's optimiser as torch.onnx.export runs it, except that it may not fold a weight
    # into a new constant (a transposed copy): every weight stays the checkpoint tensor it was.
    weights = {pname for pname, _ in wrapped.named_parameters()}
    keep = lambda node: False if any(v is not None and v.name in weights for v in node.inputs) else None
    onnxscript.optimizer.optimize_ir(program.model, should_fold=keep)
    return program.model_proto, wrapped


def checkpoint_name(param_name, layers):
    """The checkpoint tensor an exported parameter is: (name, stacked over experts or not)."""
    if param_name.startswith("model.hf."):
        return param_name.removeprefix("model.hf."), False
    for proj in ("w1", "w3", "w2"):
        for i in range(layers):
            if param_name == f"model.{proj}.{i}":
                return f"model.layers.{i}.block_sparse_moe.experts.{{e}}.{proj}.weight", True
    raise ValueError(f"exported parameter {param_name} is no checkpoint tensor")


def externalize(proto, wrapped, layers, checkpoint):
    """Moves every weight to external data in weights.bin; returns the manifest the bench reads."""
    params = dict(wrapped.named_parameters())
    entries, offset = [], 0
    for tensor in proto.graph.initializer:
        if tensor.name not in params:
            array = onnx.numpy_helper.to_array(tensor)
            assert array.size <= 4096, f"{tensor.name}: a large initializer that is no parameter (folded?)"
            continue
        source, stacked = checkpoint_name(tensor.name, layers)
        shape = list(tensor.dims)
        assert shape == list(params[tensor.name].shape), tensor.name
        assert tensor.data_type == onnx.TensorProto.FLOAT, tensor.name
        length = 4 * int(np.prod(shape))
        entries.append({"name": tensor.name, "source": source, "stacked": stacked, "shape": shape,
                        "offset": offset, "length": length})
        tensor.ClearField("raw_data")
        tensor.ClearField("float_data")
        tensor.data_location = onnx.TensorProto.EXTERNAL
        del tensor.external_data[:]
        for key, value in (("location", WEIGHTS_FILE), ("offset", str(offset)), ("length", str(length))):
            tensor.external_data.add(key=key, value=value)
        offset = (offset + length + 63) // 64 * 64  # aligned, so the runtime may map the file
    return {"file": WEIGHTS_FILE, "bytes": offset, "dtype": "float32", "checkpoint": checkpoint, "tensors": entries}


def write_weights(folder, manifest, wrapped):
    """weights.bin from the exported module's parameters (for the check; the bench writes its own)."""
    params = dict(wrapped.named_parameters())
    blob = bytearray(manifest["bytes"])
    for e in manifest["tensors"]:
        data = params[e["name"]].detach().numpy().astype("<f4").tobytes()
        blob[e["offset"]:e["offset"] + e["length"]] = data
    (folder / WEIGHTS_FILE).write_bytes(bytes(blob))


def check(folder, hf, prompt):
    """ONNX on onnxruntime (CPU) against HF: prompt logits, and greedy decoding through the cache."""
    c = hf.config
    head_dim = c.head_dim or c.hidden_size // c.num_attention_heads
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    _, outputs, past_names = io_names(c.num_hidden_layers)
    ids = torch.tensor([prompt])
    with torch.no_grad():
        want = hf(ids).logits[0].double()
        greedy = hf.generate(ids, do_sample=False, max_new_tokens=NEW_TOKENS, eos_token_id=None, pad_token_id=0,
                             attention_mask=torch.ones_like(ids))[0, len(prompt):].tolist()
    past = {n: np.zeros((1, c.num_key_value_heads, 0, head_dim), np.float32) for n in past_names}

    def step(tokens, start):
        feeds = {"input_ids": np.array([tokens], np.int64),
                 "position_ids": np.arange(start, start + len(tokens), dtype=np.int64)[None], **past}
        result = dict(zip(outputs, session.run(outputs, feeds)))
        past.update({n: result[n.replace("past", "present")] for n in past_names})
        return result["logits"][0]

    logits = torch.from_numpy(step(prompt, 0)).double()
    error = ((logits - want).norm() / want.norm()).item()
    assert error < 1e-5, f"{folder.name}: ONNX prompt logits differ from HF by rel. L2 {error:.2e}"
    out = [int(logits[-1].argmax())]
    while len(out) < NEW_TOKENS:
        out.append(int(step([out[-1]], len(prompt) + len(out) - 1)[-1].argmax()))
    assert out == greedy, f"{folder.name}: ONNX greedy {out} != HF {greedy}"
    return error


def main(names):
    torch.set_num_threads(1)
    for name in names or MODELS:
        spec = MODELS[name]
        hf = build(spec)
        folder = OUT / name
        folder.mkdir(parents=True, exist_ok=True)
        proto, wrapped = export(hf)
        # The checkpoint the bench reads (a repository path), or None: moec's seeded random weights.
        checkpoint = spec["fixture"].relative_to(ROOT).as_posix() if "fixture" in spec else None
        manifest = externalize(proto, wrapped, hf.config.num_hidden_layers, checkpoint)
        for node in proto.graph.node:  # the exporter's stack traces and names of torch ops: bytes only
            del node.metadata_props[:]
            node.doc_string = ""
        onnx.save(proto, folder / "model.onnx")
        config = hf.config.to_dict()
        config.pop("_name_or_path", None)
        (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        (folder / "weights.json").write_text(json.dumps(manifest, indent=1) + "\n")
        write_weights(folder, manifest, wrapped)
        onnx.checker.check_model(str(folder / "model.onnx"))
        prompt = [(7 * i + 3) % hf.config.vocab_size for i in range(16)]
        try:
            error = check(folder, hf, prompt)
        finally:
            (folder / WEIGHTS_FILE).unlink()
        size = (folder / "model.onnx").stat().st_size
        print(f"{name}: {folder.relative_to(ROOT)}/model.onnx ({size} bytes, {len(manifest['tensors'])} external "
              f"weights, {manifest['bytes']} bytes), onnxruntime vs HF: logits rel. L2 {error:.1e}, "
              f"{NEW_TOKENS} greedy tokens identical")


if __name__ == "__main__":
    main(sys.argv[1:])
