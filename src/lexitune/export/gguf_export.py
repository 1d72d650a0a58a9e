"""`--format gguf`: the merged model as one GGUF file (f16, q8_0 or q4_0) for llama.cpp and Ollama.

lexitune export runs/culinary --format gguf --quant q8_0 --out exports/culinary-gguf
"""

from __future__ import annotations

from pathlib import Path

from lexitune.export.gguf_file import write_gguf
from lexitune.export.merged import merged_model
from lexitune.rundir import RunDir


def gguf_name(run: RunDir, quant: str) -> str:
    return f"{run.load_config().name}-{quant}.gguf"


def export_gguf(run: RunDir, out: Path, quant: str = "f16") -> Path:
    from lexitune.export.card import resolve_license

    model, tokenizer, config = merged_model(run)
    path = out / gguf_name(run, quant)
    write_gguf(model, tokenizer, path, quant=quant, name=config.name, license=resolve_license(config))
    return out
