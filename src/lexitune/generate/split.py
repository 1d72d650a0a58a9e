"""Write train and held-out test conversations from the phrasing templates, offline.

    python -c "from lexitune.generate.split import template_conversations; from lexitune.config import GenerateConfig; from lexitune.glossary.term import Term; print(template_conversations([Term(term='TEC', definition='Tarte en croûte')], GenerateConfig(language='fr'), seed=0)[1][0])"

The question styles of a language are split once: the last `test_styles` of the list are held out
for every term, so a test question is never a phrasing the model saw in training, for any term.
That is what makes held-out recall measure learning the glossary rather than memorising strings.
"""

from __future__ import annotations

import random

from lexitune.config import GenerateConfig
from lexitune.errors import LexituneError
from lexitune.generate.dataset import Conversation, qa_messages
from lexitune.generate.templates import ALIAS_PREFIXES, ANSWERS, QUESTIONS, REFERENCE, SENSE_ANSWERS, fill
from lexitune.glossary.term import Term

# Every ALIAS_EVERY-th training question (starting with the second) asks about an alias, so that
# most questions still teach the main term.
ALIAS_EVERY = 3


def style_pools(cfg: GenerateConfig) -> tuple[list[str], list[str]]:
    """(train pool, test pool) of question style ids for the configured language."""
    styles = list(QUESTIONS[cfg.language])
    if cfg.test_styles > len(styles) - 1:
        raise LexituneError(
            f"generate.test_styles = {cfg.test_styles}: at most {len(styles) - 1} for language "
            f"{cfg.language!r} ({len(styles)} question styles, at least one kept for training)"
        )
    train_pool, test_pool = styles[: -cfg.test_styles], styles[-cfg.test_styles :]
    if cfg.train_styles > len(train_pool):
        raise LexituneError(
            f"generate.train_styles = {cfg.train_styles}: at most {len(train_pool)} for language "
            f"{cfg.language!r} ({len(styles)} question styles, {cfg.test_styles} held out by generate.test_styles)"
        )
    return train_pool, test_pool


def _answer_cycle(term: Term, language: str, rng: random.Random) -> list[str]:
    """The term's answer templates in a seeded order; cycling through it varies a term's answers."""
    pool = SENSE_ANSWERS if term.senses else ANSWERS
    order = list(pool[language].values())
    rng.shuffle(order)
    return order


def _train(term: Term, cfg: GenerateConfig, train_pool: list[str], rng: random.Random) -> list[Conversation]:
    language = cfg.language
    # Sorted back into pool order so a term's conversations read in a stable order.
    chosen = sorted(rng.sample(train_pool, cfg.train_styles), key=train_pool.index)
    answers = _answer_cycle(term, language, rng)
    prefixes = ALIAS_PREFIXES[language]
    out, k = [], 0
    for i, style in enumerate(chosen):
        alias = None
        if term.aliases and i % ALIAS_EVERY == 1:
            alias = term.aliases[(i // ALIAS_EVERY) % len(term.aliases)]
        question = QUESTIONS[language][style].format(term=alias or term.term)
        for _ in range(cfg.answers_per_question):
            answer = fill(answers[k % len(answers)], term.term, term.definitions, language=language)
            if alias:
                answer = fill(prefixes[k % len(prefixes)], term.term, term.definitions, alias, language) + answer
            k += 1
            out.append(
                Conversation(
                    term=term.term,
                    split="train",
                    style=style,
                    messages=qa_messages(cfg.system_prompt, question, answer),
                )
            )
    return out


def _test(term: Term, cfg: GenerateConfig, test_pool: list[str]) -> list[Conversation]:
    reference = fill(REFERENCE[cfg.language], term.term, term.definitions, language=cfg.language)
    return [
        Conversation(
            term=term.term,
            split="test",
            style=style,
            messages=qa_messages(cfg.system_prompt, QUESTIONS[cfg.language][style].format(term=term.term), reference),
        )
        for style in test_pool
    ]


def template_conversations(
    terms: list[Term], cfg: GenerateConfig, seed: int
) -> tuple[list[Conversation], list[Conversation]]:
    """(train, test) conversations: `train_styles` x `answers_per_question` per term for training,
    one per held-out style per term for testing."""
    train_pool, test_pool = style_pools(cfg)
    train: list[Conversation] = []
    test: list[Conversation] = []
    for term in terms:
        # One RNG per term, seeded from the run seed and the term, so adding a term to the
        # glossary leaves every other term's conversations unchanged.
        rng = random.Random(f"{seed}\x00{term.term}")
        train += _train(term, cfg, train_pool, rng)
        test += _test(term, cfg, test_pool)
    return train, test
