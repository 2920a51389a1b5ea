"""Which experts each token chose, captured from the model's own router modules, and how close each choice was.

HF 4.57.6 routers (read from the modelling code):
- mixtral, qwen2_moe, qwen3_moe, olmoe: `gate` is an nn.Linear giving logits; the block takes
  torch.topk(softmax(logits, dtype=float32), k) (sorted, so best first).
- deepseek_v3: `gate` is DeepseekV3TopkRouter: sigmoid(logits in float32) + e_score_correction_bias
  (selection only), group score = sum of the top 2 per group, keep topk_group groups, then top k
  (sorted=False, so its order is unspecified; we record the chosen set ranked by biased score).
The gaps are recomputed in float64 from the float64 router input, independently of HF's float32 islands:
for softmax routers in log-probability (= logit differences), for DeepSeek in biased sigmoid score.
"""

import contextlib

import torch


def moe_gates(model):
    """(layer index, router module) for every MoE layer, in layer order."""
    gates = []
    for index, layer in enumerate(model.model.layers):
        block = getattr(layer, "block_sparse_moe", None) or layer.mlp
        gate = getattr(block, "gate", None)
        if gate is not None and hasattr(block, "experts"):
            gates.append((index, gate))
    return gates


@contextlib.contextmanager
def capture(model):
    """Records (router input, router output) per MoE layer for every forward inside the block."""
    records = {index: [] for index, _ in moe_gates(model)}
    handles = []
    for index, gate in moe_gates(model):
        def hook(module, inputs, output, index=index):
            records[index].append((inputs[0].detach().clone(), output))
        handles.append(gate.register_forward_hook(hook))
    try:
        yield records
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def float64_router_weights(model):
    """HF 4.57.6's DeepSeek-V3 cannot run in float64 as it is: its router returns float32 weights and
    the MoE sum then index_adds float64 expert outputs into a float32 buffer (a dtype error). A hook
    hands the router's weights on in the router input's dtype; the router itself is untouched."""
    handles = []
    for _, gate in moe_gates(model):
        if hasattr(gate, "e_score_correction_bias"):
            def hook(module, inputs, output):
                indices, weights = output
                return indices, weights.to(inputs[0].dtype)
            handles.append(gate.register_forward_hook(hook))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _adjacent_gaps(sorted_scores, k):
    """(gap between rank k and k+1, smallest gap between neighbours within the top k)."""
    selection_gap = sorted_scores[:, k - 1] - sorted_scores[:, k]
    order_gap = (sorted_scores[:, : k - 1] - sorted_scores[:, 1:k]).min(dim=1).values if k > 1 else selection_gap
    return selection_gap.min().item(), order_gap.min().item()


def softmax_routing(gate, hidden, hf_logits, k):
    """Chosen experts (best first) and gaps for a softmax-then-top-k router."""
    hidden = hidden.reshape(-1, hidden.shape[-1]).double()
    logits64 = hidden @ gate.weight.double().T
    # Ranked by log-probability: same order as the probabilities, but its gaps do not shrink with
    # the probabilities themselves (a gap of d means a probability ratio of e^d).
    log_probs64 = torch.log_softmax(logits64, dim=-1)
    sorted_scores, order = log_probs64.sort(dim=-1, descending=True, stable=True)
    chosen = order[:, :k]
    # Exactly what the block does with the logits it got:
    hf_chosen = torch.topk(torch.softmax(hf_logits, dim=1, dtype=torch.float), k, dim=-1).indices
    assert torch.equal(hf_chosen, chosen), "HF's top-k differs from the float64 ranking"
    selection_gap, order_gap = _adjacent_gaps(sorted_scores, k)
    return chosen.tolist(), selection_gap, order_gap, {}


def deepseek_routing(gate, hidden, hf_output, k):
    """Chosen experts (ranked by biased score) and gaps for DeepSeek-V3's group-limited sigmoid router."""
    hidden = hidden.reshape(-1, hidden.shape[-1]).double()
    n_group, topk_group = gate.n_group, gate.topk_group
    scores = torch.sigmoid(hidden @ gate.weight.double().T)
    biased = scores + gate.e_score_correction_bias.double()
    tokens, experts = biased.shape
    per_group = biased.view(tokens, n_group, experts // n_group)
    group_scores = per_group.topk(2, dim=-1).values.sum(dim=-1)
    sorted_groups, group_order = group_scores.sort(dim=-1, descending=True, stable=True)
    group_gap = (sorted_groups[:, topk_group - 1] - sorted_groups[:, topk_group]).min().item()
    kept = torch.zeros(tokens, n_group, dtype=torch.bool)
    kept.scatter_(1, group_order[:, :topk_group], True)
    kept = kept.repeat_interleave(experts // n_group, dim=1)
    masked = biased.masked_fill(~kept, float("-inf"))
    sorted_masked, order = masked.sort(dim=-1, descending=True, stable=True)
    chosen = order[:, :k]
    hf_indices = hf_output[0]
    assert torch.equal(hf_indices.sort(dim=-1).values, chosen.sort(dim=-1).values), "HF's choice differs"
    selection_gap, order_gap = _adjacent_gaps(sorted_masked, k)
    # How often the two DeepSeek-only rules change the outcome, so a test knows they are exercised.
    unbiased_choice = scores.masked_fill(~kept, float("-inf")).topk(k, dim=-1).indices.sort(dim=-1).values
    ungrouped_choice = biased.topk(k, dim=-1).indices.sort(dim=-1).values
    chosen_sorted = chosen.sort(dim=-1).values
    counts = {
        "bias_changes_choice": int((unbiased_choice != chosen_sorted).any(dim=-1).sum()),
        "group_limit_changes_choice": int((ungrouped_choice != chosen_sorted).any(dim=-1).sum()),
    }
    return chosen.tolist(), min(selection_gap, group_gap), order_gap, counts


def analyse(model, records, k):
    """Per MoE layer: chosen experts per token; overall min selection gap, min order gap, rule counts."""
    experts, selection_gap, order_gap, counts = {}, float("inf"), float("inf"), {}
    gates = dict(moe_gates(model))
    for index, calls in records.items():
        assert len(calls) == 1, "expected one forward"
        hidden, output = calls[0]
        gate = gates[index]
        if isinstance(output, tuple):
            chosen, sel, order, layer_counts = deepseek_routing(gate, hidden, output, k)
        else:
            chosen, sel, order, layer_counts = softmax_routing(gate, hidden, output, k)
        experts[str(index)] = chosen
        selection_gap, order_gap = min(selection_gap, sel), min(order_gap, order)
        for name, count in layer_counts.items():
            counts[name] = counts.get(name, 0) + count
    return experts, selection_gap, order_gap, counts
