"""Whether an adapter can be served by vLLM (`--enable-lora --lora-modules`) and SGLang
(`--lora-paths`), from its adapter_config.json: the constraints those servers document.

- Neither serves DoRA (`use_dora`) nor adapters with `modules_to_save`: vLLM refuses both at load
  ("vLLM does not yet support DoRA", "vLLM only supports modules_to_save being None").
- LoRA on the attention and MLP projections only: vLLM maps q/k/v to its fused `qkv_proj` and
  gate/up to `gate_up_proj`; embeddings and the LM head are not adapted by lexitune.
- The rank must be one vLLM can allocate (`--max-lora-rank`, default 16; up to 512), and a bias
  needs `--enable-lora-bias`.

    python -c "from lexitune.export.compat import serving_notes; print(serving_notes({'r': 16, 'use_dora': True}))"
"""

from __future__ import annotations

import json
from pathlib import Path

# Projection names LoRA targets in the Llama, Mistral, Qwen2 and Gemma families, as vLLM and
# SGLang name them before fusing.
PROJECTIONS = frozenset({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"})
VLLM_MAX_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)  # vLLM's --max-lora-rank choices


def serving_notes(config: dict) -> list[str]:
    """What stops (or what must be set for) vLLM and SGLang serving this adapter; empty when
    both serve it with their defaults."""
    notes = []
    if config.get("use_dora"):
        notes.append("vLLM and SGLang do not serve DoRA adapters: export --format merged (or gguf) for them")
    if config.get("modules_to_save"):
        notes.append(f"modules_to_save {config['modules_to_save']}: vLLM and SGLang refuse adapters with them")
    modules = config.get("target_modules") or []
    modules = [modules] if isinstance(modules, str) else modules
    others = sorted({m.split(".")[-1] for m in modules} - PROJECTIONS)
    if others:
        notes.append(f"target modules {others}: not LoRA layers vLLM or SGLang serve (only {sorted(PROJECTIONS)})")
    r = int(config.get("r") or 0)
    if r > VLLM_MAX_RANKS[-1]:
        notes.append(f"rank {r}: vLLM serves ranks up to {VLLM_MAX_RANKS[-1]}")
    elif r > 16:
        rank = next(x for x in VLLM_MAX_RANKS if x >= r)
        notes.append(f"rank {r}: start vLLM with --max-lora-rank {rank} and SGLang with --max-lora-rank {r}")
    if config.get("bias", "none") != "none":
        notes.append("a LoRA bias: vLLM needs --enable-lora-bias")
    return notes


def adapter_notes(adapter_dir: Path) -> list[str]:
    return serving_notes(json.loads((Path(adapter_dir) / "adapter_config.json").read_text(encoding="utf-8")))
