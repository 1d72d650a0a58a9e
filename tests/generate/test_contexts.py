"""Sense-in-context conversations: one sense per question, the last style held out, expected set."""

from lexitune.config import GenerateConfig
from lexitune.evaluate.metrics import contains_definition
from lexitune.generate import generate_conversations
from lexitune.generate.contexts import context_conversations
from lexitune.generate.templates import CONTEXT_QUESTIONS
from lexitune.glossary.term import Term

AAA = Term(
    term="AAA",
    definition="Automobile Association",
    senses=["Anti-Aircraft Artillery", "Authentication Authorization and Accounting"],
    contexts=["motoring", "the military"],
)
TEC = Term(term="TEC", definition="Techniques Élémentaires et Culinaires", contexts=["cuisine"])


def test_each_sense_with_a_context_is_asked_and_answered_alone():
    for language in ("en", "fr"):
        train, test = context_conversations([AAA, TEC], GenerateConfig(language=language), seed=0)
        *train_styles, held_out = CONTEXT_QUESTIONS[language]
        assert len(train) == 2 * len(train_styles) and len(test) == 2
        assert {c.style for c in train} == set(train_styles) and {c.style for c in test} == {held_out}
        for c in train + test:
            assert c.term == "AAA" and c.expected in AAA.definitions[:2]
            context = dict((d, ctx) for ctx, d in AAA.sense_contexts)[c.expected]
            assert context in c.question and contains_definition(c.answer, c.expected)
            others = [d for d in AAA.definitions if d != c.expected]
            assert not any(contains_definition(c.answer, d) for d in others)


def test_generation_adds_them_to_both_sides_and_keeps_plain_questions_on_all_senses():
    train, test = generate_conversations([AAA, TEC], GenerateConfig(language="en"), seed=0)
    plain = [c for c in train if c.term == "AAA" and c.expected is None]
    assert plain and all(all(contains_definition(c.answer, d) for d in AAA.definitions) for c in plain)
    assert sum(c.expected is not None for c in train) == 6
    assert sum(c.expected is not None for c in test) == 2
    # No held-out phrasing leaks into training.
    assert not {c.question for c in test} & {c.question for c in train}
