"""Keep the adapter from reading what general questions are made of (experimental).

    lexitune run examples/uk-public-sector/lexitune.yaml --set experimental.protect=0.99

A LoRA update changes a layer's output by B·A·x. If A never reads the directions that the inputs
of general questions fill, the update is (nearly) zero on them, layer after layer, and the model
answers them as before; the glossary is learned in the directions they leave empty. This is
AlphaEdit's null-space constraint (Fang et al., 2025) applied to LoRA's A: from the replay rows'
inputs to each adapted layer, the top eigenvectors covering `protect` of their energy are
projected out of A at the start and after every optimizer step.
"""

from __future__ import annotations

import torch
from rich.console import Console

from lexitune.train.data import Example


def _lora_layers(model) -> dict[str, torch.nn.Module]:
    from peft.tuners.lora import LoraLayer

    return {name: m for name, m in model.named_modules() if isinstance(m, LoraLayer)}


def input_covariances(model, examples: list[Example]) -> dict[str, torch.Tensor]:
    """Sum of x·xᵀ over every token of `examples`, for the input x of each LoRA layer."""
    layers = _lora_layers(model)
    sums: dict[str, torch.Tensor] = {}
    # q/k/v (and gate/up) read the same tensor: one product for all. The tensor is kept with its
    # product so that its id is not reused within the forward pass.
    seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(name):
        def pre(module, args):
            x = args[0]
            key = id(x)
            if key not in seen:
                flat = x.reshape(-1, x.shape[-1]).float()
                seen[key] = (x, (flat.T @ flat).double())
            sums[name] = sums.get(name, 0) + seen[key][1]

        return pre

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in layers.items()]
    try:
        with torch.no_grad(), model.disable_adapter():
            for e in examples:
                seen.clear()
                model(input_ids=torch.tensor([e.input_ids]))
    finally:
        for h in handles:
            h.remove()
    return sums


def projectors(covariances: dict[str, torch.Tensor], energy: float) -> tuple[dict[str, torch.Tensor], float]:
    """I - U·Uᵀ per layer, U the top eigenvectors holding `energy` of the inputs' energy; and the
    mean share of dimensions protected."""
    out, shares = {}, []
    for name, c in covariances.items():
        values, vectors = torch.linalg.eigh(c)
        values, vectors = values.flip(0).clamp(min=0), vectors.flip(1)
        k = int((torch.cumsum(values, 0) / values.sum() < energy).sum()) + 1
        u = vectors[:, :k]
        out[name] = (torch.eye(c.shape[0], dtype=c.dtype) - u @ u.T).float()
        shares.append(k / c.shape[0])
    return out, sum(shares) / max(1, len(shares))


def protect(model, examples: list[Example], energy: float, console: Console):
    """Project LoRA's A now; return the step callback that keeps it projected."""
    projections, share = projectors(input_covariances(model, examples), energy)
    layers = _lora_layers(model)
    weights = [(layers[n].lora_A[a].weight, p) for n, p in projections.items() for a in layers[n].lora_A]

    def project(_row=None) -> bool:
        with torch.no_grad():
            for w, p in weights:
                w.copy_(w @ p)
        return False

    project()
    console.print(
        f"protect: {len(weights)} LoRA layers read none of the directions holding {energy:.3g} of "
        f"{len(examples)} replay rows' inputs ({share:.0%} of dimensions on average)"
    )
    return project
