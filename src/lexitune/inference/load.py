"""Load what a finished run folder holds, ready to answer: its tuned model and its glossary.

python -c "from lexitune.inference import load_trained; m, t, c = load_trained('runs/culinary')"
"""

from __future__ import annotations

from pathlib import Path

from lexitune.config import Config
from lexitune.glossary.term import Term
from lexitune.models import DEFAULT_MODEL, load_model, load_tokenizer
from lexitune.rundir import RunDir, read_json

# The shipped default's public name: written into adapters and model cards instead of this
# machine's cache path, so the files load anywhere.
DEFAULT_HF_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def public_model_id(name: str) -> str:
    return DEFAULT_HF_ID if name == DEFAULT_MODEL else name


def load_terms(run: RunDir) -> list[Term]:
    """The glossary the run was trained on (data/glossary.json), [] when it has none."""
    return [Term.model_validate(t) for t in read_json(run.glossary)] if run.glossary.exists() else []


def load_trained(run: RunDir | Path | str, config: Config | None = None, *, full_precision: bool = False):
    """The tuned model of a finished run, in eval mode: (model, tokenizer, config).

    LoRA/DoRA runs give a PeftModel over the base (the adapter can be switched off); full
    fine-tunes give the tuned weights alone. A QLoRA adapter sits on the 4-bit base it was trained
    on, or with `full_precision` on the full-precision base (what a merged export holds)."""
    run = run if isinstance(run, RunDir) else RunDir(run)
    config = config or run.load_config()
    weights = run.trained_weights()
    tokenizer = load_tokenizer(str(weights))
    if weights == run.full_model:
        return load_model(str(weights)).eval(), tokenizer, config
    from peft import PeftModel

    four_bit = config.train.method == "qlora" and not full_precision
    model = PeftModel.from_pretrained(load_model(config.model.name, four_bit=four_bit), str(weights))
    return model.eval(), tokenizer, config


def load_base_for(model, config: Config):
    """A model that answers as the untuned base: `model` itself when it carries an adapter that can
    be switched off, else the base weights loaded anew (a full fine-tune has no base inside it)."""
    if hasattr(model, "disable_adapter"):
        return model
    return load_model(config.model.name).eval()
