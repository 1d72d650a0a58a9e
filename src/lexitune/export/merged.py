"""LoRA merged into the base weights and saved as safetensors: a plain transformers model, no peft needed.

lexitune export runs/culinary --format merged --out exports/culinary-merged
"""

from __future__ import annotations

from pathlib import Path

from lexitune.inference import DEFAULT_HF_ID, load_trained
from lexitune.models import DEFAULT_MODEL
from lexitune.rundir import RunDir


def merged_model(run: RunDir):
    """(model, tokenizer, config) with any adapter folded into the weights."""
    model, tokenizer, config = load_trained(run, full_precision=True)  # QLoRA: into the full-precision base
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    if config.model.name == DEFAULT_MODEL:
        model.config._name_or_path = DEFAULT_HF_ID  # not this machine's cache path
    return model.eval(), tokenizer, config


def export_merged(run: RunDir, out: Path, quant: str = "f16") -> Path:
    model, tokenizer, _ = merged_model(run)
    model.save_pretrained(out)  # safetensors, with config.json and generation_config.json
    tokenizer.save_pretrained(out)  # tokenizer and chat template
    return out
