"""Decorated training questions: same answers, a share of questions varied, held-out phrasings untouched."""

import random

from lexitune.config import GenerateConfig
from lexitune.generate import generate_conversations
from lexitune.generate.augment import CLOSERS, OPENERS, augment, decorate
from lexitune.generate.templates import QUESTIONS
from lexitune.glossary.term import Term

TERMS = [Term(term=f"T{i}X", definition=f"Definition number {i}") for i in range(6)]


def test_a_share_of_training_questions_is_decorated_and_answers_are_kept():
    cfg = GenerateConfig(language="fr", negatives=1.0)
    plain_train, plain_test = generate_conversations(TERMS, cfg, seed=0)
    train, test = generate_conversations(TERMS, cfg, seed=0, augment_share=0.5)
    assert test == plain_test  # held-out questions are never decorated
    assert [c.answer for c in train] == [c.answer for c in plain_train]
    changed = [a for a, b in zip(train, plain_train, strict=True) if a.question != b.question]
    assert 0.35 < len(changed) / len(train) < 0.65
    assert any(c.style.startswith("negative/") for c in changed) and any(
        c.term in {t.term for t in TERMS} for c in changed
    )
    for c in changed:  # the term is still asked about, inside the decoration
        original = next(b for b in plain_train if b.answer == c.answer and b.style == c.style).question
        assert original[1:] in c.question


def test_decorations_are_no_part_of_any_question_template():
    for language in ("en", "fr"):
        templates = " ".join(QUESTIONS[language].values()).lower()
        for piece in OPENERS[language] + CLOSERS[language]:
            assert piece.strip(" ,:!.").lower() not in templates, piece


def test_decorate_is_seeded_and_off_means_unchanged():
    assert decorate("Que signifie X ?", "fr", random.Random(1)) == decorate("Que signifie X ?", "fr", random.Random(1))
    train, _ = generate_conversations(TERMS, GenerateConfig(), seed=0)
    assert augment(train, "en", 0.0, 0) is train
