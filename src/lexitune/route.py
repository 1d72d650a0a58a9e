"""Routing: the adapter answers what may be about the glossary, the base model everything else.

    lexitune run examples/culinary-fr/lexitune.yaml --set model.route=glossary

Training can narrow what the adapter changes (replay, negatives), never remove it: a small model
tuned on a glossary still answers a few general questions differently from the base model, and
each such answer is a coin toss. With `model.route: glossary` a question goes to the adapter only
when it names a glossary term or alias, or holds an all-capitals word (an acronym the adapter must
define, decline, or leave to what the base knew); any other question is answered by the same
weights with the adapter switched off, so it gets exactly the base model's answer. Evaluation,
`lexitune chat` and `lexitune serve` route alike. Merged weights, GGUF and Ollama exports have no
adapter to switch off: they answer like `model.route: always`.
"""

from __future__ import annotations

import contextlib

from lexitune.config import Config
from lexitune.evaluate.generation import answer_questions
from lexitune.glossary.term import Term, capitalised_words, mentions


def may_concern_glossary(text: str, terms: list[Term]) -> bool:
    """True when `text` names a glossary term or alias, or holds a word that reads as an acronym."""
    return mentions(text, terms) or bool(capitalised_words(text))


def uses_adapter(config: Config, terms: list[Term], messages: list[dict]) -> bool:
    """Whether the adapter answers this conversation: always, unless routing sends its last question to the base."""
    if config.model.route == "always":
        return True
    question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return may_concern_glossary(question, terms)


def adapter_off(model, off: bool):
    """A context with the adapter switched off when `off` (and the model has one), else nothing."""
    return model.disable_adapter() if off and hasattr(model, "disable_adapter") else contextlib.nullcontext()


def answer_routed(
    model, tokenizer, config: Config, terms: list[Term], prompts: list[list[dict]], **generation
) -> list[str]:
    """answer_questions, each prompt answered with or without the adapter as routing says."""
    on = [uses_adapter(config, terms, p) for p in prompts]
    answers = [""] * len(prompts)
    for side in (True, False):
        ids = [i for i, o in enumerate(on) if o is side]
        if not ids:
            continue
        with adapter_off(model, not side):
            side_answers = answer_questions(model, tokenizer, [prompts[i] for i in ids], **generation)
        for i, answer in zip(ids, side_answers, strict=True):
            answers[i] = answer
    return answers
