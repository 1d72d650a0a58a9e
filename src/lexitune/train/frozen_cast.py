"""Hold the frozen weights in bf16 while a step runs under bf16 autocast: the same numbers, fewer copies.

Under autocast every matmul casts its fp32 weight to bf16, and autocast keeps that cast only for
weights that require grad. LoRA's frozen base weights, and the LM head, are cast again in every
forward pass of every step: the shared prefix's, the suffixes', the replay teacher's. Cast once
before training and swapped in for each step, they give the same bf16 values autocast would have
made, so the loss and every gradient are bit-identical (tests/train/test_frozen_cast.py), and only
the copies go: about 11% of a LoRA step on an AMX CPU (docs/experiments.md, 2026-12-07).

Only `nn.Linear` weights that are frozen and fp32 are swapped, and they are swapped back after each
step, so the optimiser, the learning curve's evaluation, checkpoints and the saved adapter see the
model as loaded. The swap is by Parameter object, not by `.data`: a tied LM head gets its own bf16
copy while the input embeddings (which autocast does not cast) stay fp32. DoRA reads its base
weights for its norm, so it is left to autocast (the caller enables this for LoRA only).

    python -m pytest -q tests/train/test_frozen_cast.py
"""

from __future__ import annotations

import torch
from torch import nn


class FrozenBf16:
    """`with frozen:` puts the bf16 copies in; leaving puts the originals back."""

    def __init__(self, model: nn.Module, enabled: bool = True):
        self._swaps: list[tuple[nn.Module, nn.Parameter, nn.Parameter]] = []
        if not enabled:
            return
        for module in model.modules():
            weight = module._parameters.get("weight") if isinstance(module, nn.Linear) else None
            if weight is not None and not weight.requires_grad and weight.dtype == torch.float32:
                low = nn.Parameter(weight.detach().to(torch.bfloat16), requires_grad=False)
                self._swaps.append((module, weight, low))

    def __len__(self) -> int:
        return len(self._swaps)

    def __enter__(self) -> FrozenBf16:
        for module, _, low in self._swaps:
            module._parameters["weight"] = low
        return self

    def __exit__(self, *exc) -> None:
        for module, original, _ in self._swaps:
            module._parameters["weight"] = original
