"""QLoRA: the base model loaded in 4-bit (bitsandbytes NF4, double quantization), LoRA trained on
top in the compute precision the hardware runs best.

bitsandbytes runs 4-bit layers on CUDA, and on CPU since its 0.46 release (torch kernels; the
optional `kernels` package only speeds them up). Where it cannot run, the run stops with one line
saying so before any work. The adapter is saved as any LoRA adapter: evaluation and chat load the
4-bit base it was trained on; `merged`, GGUF and `serve` put it on the full-precision base.

    lexitune run my-glossary.csv --set train.method=qlora
"""

from __future__ import annotations

import torch

from lexitune.errors import LexituneError

MIN_CPU_VERSION = (0, 46)  # the first bitsandbytes with a CPU backend for 4-bit layers


def check_qlora(device: str = "cpu") -> None:
    """Raise a LexituneError naming what is missing when 4-bit training cannot run here."""
    try:
        import bitsandbytes
    except ImportError:
        raise LexituneError(
            "train.method qlora needs bitsandbytes (pip install bitsandbytes); or choose train.method lora"
        ) from None
    version = tuple(int(p) for p in bitsandbytes.__version__.split(".")[:2] if p.isdigit())
    if device == "cpu" and version < MIN_CPU_VERSION:
        raise LexituneError(
            f"train.method qlora on a CPU needs bitsandbytes >= {'.'.join(map(str, MIN_CPU_VERSION))} "
            f"(installed: {bitsandbytes.__version__}); upgrade it, use a CUDA GPU, or choose train.method lora"
        )


def quantization_config(compute_dtype: torch.dtype):
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=compute_dtype,
    )


def prepare_for_lora(model):
    """peft's preparation of a 4-bit model for training (norms in fp32, inputs that require grad),
    without gradient checkpointing: recomputing every layer costs a CPU a third more time."""
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
