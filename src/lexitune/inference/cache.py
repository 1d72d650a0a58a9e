"""The base model's answers, cached by everything that produced them.

The untuned model answers the same held-out questions, probes and replay prompts in every run
and sweep trial of a glossary. Its answers are kept twice: in the run folder (so the folder is
self-contained and a resumed run pays nothing), and in a cache shared across runs
(`<lexitune cache>/answers/`), keyed by the model's files, the chat template, the system prompt,
the questions, the length limit and the batch size (batched fp32 can flip a token). When any of
these changes, the answers are recomputed: a stale cache can never be read.

    python -c "from lexitune.inference.cache import base_answers"
"""

from __future__ import annotations

import os
from pathlib import Path

from lexitune.inference.answerer import Answerer, with_system
from lexitune.inference.greedy import decoding
from lexitune.models import cache_dir, resolve_model
from lexitune.rundir import digest, read_cache, write_cache


def model_fingerprint(name: str) -> dict:
    """What identifies a model's weights: its resolved path or id, and its weight files' sizes and times."""
    path = Path(resolve_model(name))
    files = {}
    if path.is_dir():
        for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
            st = f.stat()
            files[f.name] = [st.st_size, st.st_mtime_ns]
    return {"model": str(path), "files": files}


def answers_inputs(answerer: Answerer, model_name: str, conversations: list[list[dict]]) -> dict:
    return {
        "kind": "base answers",
        "model": model_fingerprint(model_name),
        "template": answerer.tokenizer.chat_template,
        "prompts": [with_system(answerer.system_prompt, c) for c in conversations],
        "max_new_tokens": answerer.max_new_tokens,
        "batch_size": answerer.batch_size,
        # Shrinking batches with a shared prefill reshape the fp32 computation, as the batch size does.
        "decoding": decoding(answerer.model),
    }


def shared_cache_enabled() -> bool:
    return os.environ.get("LEXITUNE_SHARED_CACHE", "1") != "0"


def base_answers(answerer: Answerer, model_name: str, conversations: list[list[dict]], run_cache: Path) -> list[str]:
    """The base model's answers to `conversations`: from the run's cache, the shared cache, or computed."""
    inputs = answers_inputs(answerer, model_name, conversations)
    return cached(inputs, lambda: answerer.answer(conversations), run_cache)


def cached(inputs: dict, compute, run_cache: Path | None = None):
    """compute(), or what it gave before for the same `inputs`: from the run folder's copy at
    `run_cache` (if any), else from the cache shared across runs, which both then keep."""
    if run_cache is not None and (value := read_cache(run_cache, inputs)) is not None:
        return value
    shared = cache_dir() / "answers" / f"{digest(inputs)}.json"
    if shared_cache_enabled() and (value := read_cache(shared, inputs)) is not None:
        if run_cache is not None:
            write_cache(run_cache, inputs, value)
        return value
    value = compute()
    if run_cache is not None:
        write_cache(run_cache, inputs, value)
    if shared_cache_enabled():
        write_cache(shared, inputs, value)
    return value
