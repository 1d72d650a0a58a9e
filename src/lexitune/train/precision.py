"""Choose the training precision for the hardware at hand, say why, and run a step in it.

bf16 autocast is about 2x faster than fp32 on CPUs with native bf16 (AVX512-BF16, AMX) and about
3x *slower* on CPUs without it, where it is emulated. So `auto` asks the CPU flags first and, when
they are inconclusive, measures a matmul in both precisions.

A step in the chosen precision is more than autocast: under bf16 the frozen LoRA weights are held
in bf16 (`frozen_cast`) and short rows on a CPU take the math attention kernel (`attention`).
`StepPrecision` puts the three together once, so the loop, preference tuning and
bench/profile_step.py run the same step.

    python -m lexitune.train.precision
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from lexitune.train.attention import attention_kernel
from lexitune.train.frozen_cast import FrozenBf16

_NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class Precision:
    dtype: torch.dtype  # autocast dtype; float32 means no autocast
    reason: str

    @property
    def name(self) -> str:
        return "bf16" if self.dtype == torch.bfloat16 else "fp32"


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def device_name(device: torch.device) -> str:
    """What a run trains on, so its timings can be read: the CPU's model name and the cores this
    process may use, or the GPU's name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type != "cpu":
        return device.type
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
        platform.processor() or platform.machine() or "CPU",
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {cores} cores"


def _matmul_seconds(dtype: torch.dtype, size: int = 512, repeat: int = 8) -> float:
    a = torch.randn(size, size, dtype=dtype)
    b = torch.randn(size, size, dtype=dtype)
    a @ b  # warm-up: first call pays for kernel selection
    start = time.perf_counter()
    for _ in range(repeat):
        a @ b
    return time.perf_counter() - start


FORCE_ENV = "LEXITUNE_FORCE_PRECISION"


def choose_precision(requested: str, device: torch.device) -> Precision:
    """`requested` is auto|bf16|fp32; an explicit choice always wins.

    $LEXITUNE_FORCE_PRECISION (bf16 or fp32) stands in for `auto`'s choice, so a machine with one
    kind of CPU can run the test suite as the other kind would: `LEXITUNE_FORCE_PRECISION=fp32 make test`."""
    forced = os.environ.get(FORCE_ENV, "").strip().lower()
    if requested == "auto" and forced in ("bf16", "fp32"):
        return Precision(torch.bfloat16 if forced == "bf16" else torch.float32, f"forced by ${FORCE_ENV}")
    if requested == "bf16":
        return Precision(torch.bfloat16, "requested")
    if requested == "fp32":
        return Precision(torch.float32, "requested")
    if device.type == "cuda":
        if torch.cuda.is_bf16_supported():
            return Precision(torch.bfloat16, "CUDA device supports bf16")
        return Precision(torch.float32, "CUDA device without bf16")
    if device.type != "cpu":
        return Precision(torch.float32, f"{device.type}: fp32 by default")
    flags = cpu_flags()
    native = [f for f in _NATIVE_BF16_FLAGS if f in flags]
    if native:
        return Precision(torch.bfloat16, f"CPU has {', '.join(native)}")
    if flags:
        return Precision(torch.float32, "CPU lacks avx512_bf16/amx_bf16 (bf16 would be emulated)")
    # No flags to read (not Linux): measure instead of guessing.
    fp32, bf16 = _matmul_seconds(torch.float32), _matmul_seconds(torch.bfloat16)
    if bf16 < 0.8 * fp32:
        return Precision(torch.bfloat16, f"measured bf16 matmul {fp32 / bf16:.1f}x faster than fp32")
    return Precision(torch.float32, f"measured bf16 matmul {fp32 / bf16:.2f}x the speed of fp32")


class StepPrecision:
    """How a training step runs in `precision`: built once per training, after the model is on its device.

    with step.around(tokens):      # forward and backward: frozen bf16 weights, attention kernel
        with step.autocast:        # the forward pass only, as autocast requires
            loss = ...
        loss.backward()
    """

    def __init__(self, model: nn.Module, precision: Precision, device: torch.device, method: str):
        self.precision, self.device = precision, device
        bf16 = precision.dtype == torch.bfloat16
        self.autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
        # DoRA reads its base weights for its norm and full fine-tuning has none frozen: LoRA only.
        self.frozen = FrozenBf16(model, enabled=bf16 and method == "lora")

    # Generator contexts, so nothing is entered until `with`: a call whose result is never entered
    # leaves no bf16 swap behind.
    @contextmanager
    def around(self, tokens: int) -> Iterator[None]:
        """The context of one step's forward and backward over rows of `tokens` tokens."""
        with self.frozen, attention_kernel(self.precision.dtype, self.device, tokens):
            yield

    @contextmanager
    def without_grad(self) -> Iterator[None]:
        """A pass without gradients (a reference model's log-probabilities): no grad, frozen weights, autocast."""
        with torch.no_grad(), self.frozen, self.autocast:
            yield


if __name__ == "__main__":
    p = choose_precision("auto", torch.device("cpu"))
    print(p.name, "-", p.reason)
