"""Choose the attention kernel of a training step: SDPA's math kernel for short bf16 batches on a CPU.

PyTorch's CPU flash-attention kernel is slow backwards in bf16 on the short rows a glossary trains
on: on an AMX CPU, forward and backward of 8 rows x 9 heads cost 3.2 ms at 30 tokens and 15.6 ms at
128 with it, 1.3 and 9.3 ms with the math kernel; from 256 tokens on, flash wins (20.7 against
33.1 ms), and in fp32 flash wins at every length. Both are bf16 approximations of the same
attention: against a float64 reference, the math kernel's output and gradients are as close as
flash's (docs/experiments.md, 2026-12-07). So bf16 steps on a CPU whose rows are at most
`MATH_MAX_TOKENS` long use the math kernel; every other step keeps PyTorch's choice. Forward
alone, flash is the faster one (0.45 against 1.66 ms at 60 tokens), so a pass without gradients
inside such a step, the replay teacher's, gives PyTorch its choice back (`forward_only`).

    python -m pytest -q tests/train/test_attention.py
"""

from __future__ import annotations

from contextlib import nullcontext

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

MATH_MAX_TOKENS = 160  # between the measured 128 (math faster) and 256 (flash faster)
_CPU_KERNELS = [SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]  # the two a CPU has


def attention_kernel(dtype: torch.dtype, device: torch.device, tokens: int):
    """A context for one step's forward pass over rows of `tokens` tokens (prefix included)."""
    if dtype == torch.bfloat16 and device.type == "cpu" and tokens <= MATH_MAX_TOKENS:
        return sdpa_kernel(SDPBackend.MATH)
    return nullcontext()


def forward_only(device: torch.device):
    """Inside a step's context, on a CPU: PyTorch's choice again, for a pass that computes no gradient.

    Elsewhere nothing was changed, so nothing is given back (a GPU's settings stay the user's)."""
    return sdpa_kernel(_CPU_KERNELS) if device.type == "cpu" else nullcontext()
