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
from lexitune.generate.templates import (
    ALIAS_PREFIXES,
    ANSWERS,
    QUESTIONS,
    REFERENCE,
    REVERSE_ANSWERS,
    REVERSE_QUESTIONS,
    REVERSE_TEST_STYLES,
    SEALED_QUESTIONS,
    SENSE_ANSWERS,
    fill,
)
from lexitune.glossary.term import Term

# Every ALIAS_EVERY-th training question (starting with the second) asks about an alias, so that
# most questions still teach the main term.
ALIAS_EVERY = 3


REVERSE, SEALED = "reverse/", "sealed/"


def family(style: str) -> str:
    """Which question family a style belongs to: "forward" (what does TERM mean?), "reverse" (which term means DEFINITION?) or "sealed"."""
    if style.startswith(REVERSE):
        return "reverse"
    if style.startswith(SEALED):
        return "sealed"
    return "forward"


def reverse_pools(language: str) -> tuple[list[str], list[str]]:
    """(train pool, test pool) of reverse-question style ids: the last REVERSE_TEST_STYLES are held out."""
    styles = list(REVERSE_QUESTIONS[language])
    return styles[:-REVERSE_TEST_STYLES], styles[-REVERSE_TEST_STYLES:]


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


def _reverse(term: Term, cfg: GenerateConfig, styles: list[str], split: str, rng: random.Random) -> list[Conversation]:
    """Reverse questions about `term` (its first definition given, the term asked) in `styles`."""
    language, out = cfg.language, []
    answers = list(REVERSE_ANSWERS[language])
    rng.shuffle(answers)
    for k, style in enumerate(styles):
        question = fill(REVERSE_QUESTIONS[language][style], term.term, term.definitions, language=language)
        answer = fill(answers[k % len(answers)], term.term, term.definitions, language=language)
        messages = qa_messages(cfg.system_prompt, question, answer)
        out.append(Conversation(term=term.term, split=split, style=REVERSE + style, messages=messages))
    return out


def _sealed(term: Term, cfg: GenerateConfig) -> list[Conversation]:
    reference = fill(REFERENCE[cfg.language], term.term, term.definitions, language=cfg.language)
    return [
        Conversation(
            term=term.term,
            split="test",
            style=SEALED + style,
            messages=qa_messages(cfg.system_prompt, template.format(term=term.term), reference),
        )
        for style, template in SEALED_QUESTIONS[cfg.language].items()
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
        test += held_out_extras(term, cfg, seed)
        if cfg.reverse_styles:
            reverse_train, _ = reverse_pools(cfg.language)
            rev_rng = random.Random(f"{seed}\x00reverse\x00{term.term}")
            chosen = sorted(
                rev_rng.sample(reverse_train, min(cfg.reverse_styles, len(reverse_train))), key=reverse_train.index
            )
            train += _reverse(term, cfg, chosen, "train", rev_rng)
    return train, test


def held_out_extras(term: Term, cfg: GenerateConfig, seed: int) -> list[Conversation]:
    """The reverse and sealed held-out questions of a term: asked whatever wrote the rest of the data."""
    out: list[Conversation] = []
    if cfg.reverse_test:
        _, reverse_test = reverse_pools(cfg.language)
        out += _reverse(term, cfg, reverse_test, "test", random.Random(f"{seed}\x00reverse-test\x00{term.term}"))
    if cfg.sealed:
        out += _sealed(term, cfg)
    return out
