"""torch.compile the blocks of a decoder that gain from fusion: the MLPs and the norms.

Whole-layer compilation breaks on the KV cache the shared prefix passes between calls (a graph per
layer index, past dynamo's recompile limit), and attention already runs in one SDPA kernel. The MLP
(gate/up/down projections with their LoRA branches, SiLU, product) and the RMS norms are where
elementwise passes over [tokens, hidden] tensors add up, so those are compiled; compilation itself
takes seconds, so it pays only on long runs (bench/RESULTS.md measures both).

    python -c "from lexitune.train.compile import compiled_blocks"
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


def _blocks(model: nn.Module) -> list[nn.Module]:
    return [
        module
        for name, module in model.named_modules()
        if name.rsplit(".", 1)[-1] == "mlp" or type(module).__name__.endswith("Norm")
    ]


@contextmanager
def compiled_blocks(model: nn.Module, enabled: bool = True) -> Iterator[int]:
    """Inside: the MLP and *Norm blocks run compiled; after: the eager ones again.

    Training only: evaluation decodes one token at a time under no_grad, new shapes and a new grad
    mode that would each cost another compilation for a few seconds of generation. (Learning-curve
    and selection points, asked inside the loop, do pay that once.)
    """
    blocks = _blocks(model) if enabled else []
    for module in blocks:
        # dynamic: lengths change every batch, so one graph with symbolic shapes
        module.forward = torch.compile(module.forward, dynamic=True)
    try:
        yield len(blocks)
    finally:
        for module in blocks:
            del module.forward  # the instance attribute goes; the class's eager forward is back
