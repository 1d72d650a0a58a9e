"""The LoRA adapter alone, in PEFT format with the tokenizer and chat template: small, loadable by peft as is.

lexitune export runs/culinary --format adapter --out exports/culinary-adapter
python -c "from peft import AutoPeftModelForCausalLM as M; M.from_pretrained('exports/culinary-adapter')"
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lexitune.errors import LexituneError
from lexitune.rundir import RunDir


def export_adapter(run: RunDir, out: Path, quant: str = "f16") -> Path:
    weights = run.trained_weights()
    if weights != run.adapter:
        raise LexituneError(f"{run.root}: a full fine-tune has no adapter; use --format merged")
    for item in sorted(weights.iterdir()):
        if item.is_file():
            shutil.copy2(item, out / item.name)
    return out
