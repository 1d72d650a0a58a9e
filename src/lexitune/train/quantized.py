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


def keep_autograd_layout(model):
    """Keep every 4-bit weight in the layout bitsandbytes' autograd knows, for a model to be trained.

    On a CPU with AVX512-BF16, bitsandbytes (0.46 to at least 0.50) repacks a 4-bit weight for its
    inference kernel the first time the layer runs in eval mode without grad, and never unpacks it
    when training resumes. That kernel has no backward: every later step's gradient through the
    frozen weights is silently wrong (torch warns "autograd kernel was not registered"). A QLoRA run
    answers its "before" questions first, so all of its training went through it: this is why the
    culinary QLoRA row diverged on such a CPU (docs/experiments.md, 2026-12-02). So the repacking
    is switched off, and any packing already done is undone (bitsandbytes' own inverse, as its
    state_dict saving uses; it rounds the block scales to bf16, hence off from the start where we
    load the model)."""
    import bitsandbytes as bnb
    from bitsandbytes.functional import _convert_weight_packed_for_cpu_inverse

    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False
            weight = module.weight
            if getattr(weight.quant_state, "packing_format_for_cpu", False):
                weight.data, weight.quant_state = _convert_weight_packed_for_cpu_inverse(
                    weight.data, weight.quant_state
                )
    return model


def prepare_for_lora(model):
    """peft's preparation of a 4-bit model for training (norms in fp32, inputs that require grad),
    without gradient checkpointing: recomputing every layer costs a CPU a third more time."""
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(keep_autograd_layout(model), use_gradient_checkpointing=False)
