"""Turn glossary terms into train and held-out test conversations.

    python -c "from lexitune.generate import generate_conversations; from lexitune.config import GenerateConfig; from lexitune.glossary.term import Term; print(generate_conversations([Term(term='GPU', definition='Graphics Processing Unit')], GenerateConfig(), 0)[0][0])"

A backend is a function `(terms, cfg, seed) -> (train, test)`; adding one is a new module and a
line in BACKENDS. A user's own conversations file (`generate.conversations`) replaces generation.
"""

from __future__ import annotations

from collections.abc import Callable

from lexitune.config import GenerateConfig
from lexitune.errors import LexituneError
from lexitune.generate.dataset import Conversation, read_conversations, write_conversations
from lexitune.generate.negatives import negative_conversations
from lexitune.generate.split import template_conversations
from lexitune.glossary.term import Term

Backend = Callable[[list[Term], GenerateConfig, int], tuple[list[Conversation], list[Conversation]]]

BACKENDS: dict[str, Backend] = {"templates": template_conversations}

__all__ = ["BACKENDS", "generate_conversations", "read_conversations", "write_conversations"]


def _backend(cfg: GenerateConfig) -> Backend:
    if cfg.backend not in BACKENDS:
        raise LexituneError(f"generate.backend = {cfg.backend!r}: expected one of {', '.join(BACKENDS)}")
    return BACKENDS[cfg.backend]


def generate_conversations(
    terms: list[Term], cfg: GenerateConfig, seed: int
) -> tuple[list[Conversation], list[Conversation]]:
    """(train, test) conversations for `terms`: each side from the user's file when one is given,
    else from the backend.

    A user's train file may carry its own `"split": "test"` rows; they are the test set when no
    `test_conversations` file is given. Otherwise the test set is the backend's held-out split, so
    a user-written train set is still measured on phrasings it does not contain.
    """
    train: list[Conversation] = []
    test: list[Conversation] = []
    if cfg.conversations is None or cfg.test_conversations is None:
        train, test = _backend(cfg)(terms, cfg, seed)
    if cfg.conversations is not None:
        rows = read_conversations(cfg.conversations, default_split="train")
        train = [c for c in rows if c.split == "train"]
        test = [c for c in rows if c.split == "test"] or test
        if not train:
            raise LexituneError(f"{cfg.conversations}: no training conversations (every line has split 'test')")
    if cfg.test_conversations is not None:
        test = read_conversations(cfg.test_conversations, default_split="test")
    if cfg.negatives and terms:
        train = train + negative_conversations(terms, cfg, seed, len(train))
    return train, test
