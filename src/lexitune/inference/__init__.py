"""Answering with a model: loading a finished run, generating text, and the one `Answerer`.

Every stage that makes a model answer (evaluation, probes, the learning curve, selection, replay,
chat, serve) goes through this package, so a question is asked the same way everywhere: the run's
system prompt, routing between adapter and base, the guard against declining glossary terms, the
answer length and the end-of-turn tokens.

    python -c "from lexitune.inference import Answerer, load_trained"
"""

from lexitune.inference.answerer import Answerer, adapter_off, with_system
from lexitune.inference.load import DEFAULT_HF_ID, load_base_for, load_terms, load_trained, public_model_id

__all__ = [
    "DEFAULT_HF_ID",
    "Answerer",
    "adapter_off",
    "load_base_for",
    "load_terms",
    "load_trained",
    "public_model_id",
    "with_system",
]
