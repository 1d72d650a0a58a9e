"""Turn glossary terms into train and held-out test conversations.

    python -c "from lexitune.generate import generate_conversations; from lexitune.config import GenerateConfig; from lexitune.glossary.term import Term; print(generate_conversations([Term(term='GPU', definition='Graphics Processing Unit')], GenerateConfig(), 0)[0][0])"

A backend is a function `(terms, cfg, seed, *, report, only) -> (train, test)`; adding one is a new
module and a line in BACKENDS. `report` is a dict the backend may fill (kept, dropped, usage...);
`only="train"|"test"` asks for one side only, when train and test come from different backends
(`generate.test_backend`). A user's own conversations file (`generate.conversations`) replaces generation.
"""

from __future__ import annotations

from collections.abc import Callable

from lexitune.config import GenerateConfig
from lexitune.errors import LexituneError
from lexitune.generate.augment import augment
from lexitune.generate.contexts import context_conversations
from lexitune.generate.dataset import Conversation, read_conversations, write_conversations
from lexitune.generate.llm import llm_conversations
from lexitune.generate.negatives import negative_conversations
from lexitune.generate.split import family, held_out_extras, template_conversations
from lexitune.glossary.term import Term

Backend = Callable[..., tuple[list[Conversation], list[Conversation]]]


def _templates(
    terms: list[Term], cfg: GenerateConfig, seed: int, *, report: dict | None = None, only: str | None = None
):
    return template_conversations(terms, cfg, seed)  # offline and cheap: both sides, the caller picks


BACKENDS: dict[str, Backend] = {"templates": _templates, "openai": llm_conversations}

__all__ = ["BACKENDS", "generate_conversations", "read_conversations", "write_conversations"]


def _backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise LexituneError(f"generate.backend = {name!r}: expected one of {', '.join(BACKENDS)}")
    return BACKENDS[name]


def top_up(
    train: list[Conversation], terms: list[Term], cfg: GenerateConfig, seed: int, report: dict | None
) -> list[Conversation]:
    """Training sized by examples a term, not by what an LLM returned: a term with fewer than
    `generate.examples_per_term` (default `train_styles`) conversations gets template phrasings
    up to that count; the generation report says how many, per term."""
    wanted = cfg.examples_per_term or cfg.train_styles
    have: dict[str, int] = {}
    for c in train:
        have[c.term] = have.get(c.term, 0) + 1
    templated, _ = template_conversations(terms, cfg.model_copy(update={"reverse_styles": 0}), seed)
    added: dict[str, int] = {}
    for c in templated:
        if have.get(c.term, 0) < wanted:
            train.append(c.model_copy(update={"style": f"template/{c.style}"}))
            have[c.term] = have.get(c.term, 0) + 1
            added[c.term] = added.get(c.term, 0) + 1
    if report is not None:
        report["topped_up"] = {"examples_per_term": wanted, "added": added, "total_added": sum(added.values())}
    return train


def generate_conversations(
    terms: list[Term], cfg: GenerateConfig, seed: int, report: dict | None = None, augment_share: float = 0.0
) -> tuple[list[Conversation], list[Conversation]]:
    """(train, test) conversations for `terms`: each side from the user's file when one is given,
    else from its backend (`generate.backend`, and `generate.test_backend` for the test side).

    A user's train file may carry its own `"split": "test"` rows; they are the test set when no
    `test_conversations` file is given. Otherwise the test set is the backend's held-out split, so
    a user-written train set is still measured on phrasings it does not contain.
    """
    train: list[Conversation] = []
    test: list[Conversation] = []
    if cfg.conversations is not None:
        rows = read_conversations(cfg.conversations, default_split="train")
        train = [c for c in rows if c.split == "train"]
        test = [c for c in rows if c.split == "test"]
        if not train:
            raise LexituneError(f"{cfg.conversations}: no training conversations (every line has split 'test')")
    if cfg.test_conversations is not None:
        test = read_conversations(cfg.test_conversations, default_split="test")
    train_from = cfg.backend if cfg.conversations is None else None
    test_from = (cfg.test_backend or cfg.backend) if not test else None
    if train_from is not None and train_from == test_from:
        train, test = _backend(train_from)(terms, cfg, seed, report=report)
    else:
        if train_from is not None:
            train = _backend(train_from)(terms, cfg, seed, report=report, only="train")[0]
        if test_from is not None:
            test = _backend(test_from)(terms, cfg, seed, report=report, only="test")[1]
    if train_from == "openai":
        train = top_up(train, terms, cfg, seed, report)
    if test_from == "openai":  # the reverse and sealed families are the same whatever wrote the rest
        test = test + [c for t in terms for c in held_out_extras(t, cfg, seed)]
    # Sense-in-context questions come from the glossary's contexts, whatever wrote the rest.
    context_train, context_test = context_conversations(terms, cfg, seed)
    if train_from is not None:
        train = train + context_train
    if test_from is not None:
        test = test + context_test
    if cfg.negatives and terms:
        # As many negatives as forward glossary questions (the ones whose phrasings they share).
        forward = sum(family(c.style) == "forward" for c in train)
        train = train + negative_conversations(terms, cfg, seed, forward)
    if train_from is not None:  # a user's own training file is theirs: left as written
        train = augment(train, cfg.language, augment_share, seed)
    return train, test
