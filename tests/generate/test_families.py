"""The reverse question and the sealed phrasings: generated, held out, and scored apart."""

from __future__ import annotations

from lexitune.config import GenerateConfig
from lexitune.evaluate.scoring import names_term, score, summarize_families
from lexitune.generate.split import family, template_conversations
from lexitune.generate.templates import QUESTIONS, REVERSE_QUESTIONS, SEALED_QUESTIONS
from lexitune.glossary.term import Term

TERMS = [
    Term(term="TEC", definition="Techniques Élémentaires et Culinaires", aliases=["T.E.C."]),
    Term(term="PAVU", definition="Pâtisserie Avancée et Viennoiserie Usuelle"),
]


def test_sealed_phrasings_are_new_and_only_ever_held_out():
    for language, sealed in SEALED_QUESTIONS.items():
        assert len(sealed) == 4
        assert not set(sealed.values()) & set(QUESTIONS[language].values())
    train, test = template_conversations(TERMS, GenerateConfig(language="fr", train_styles=11, reverse_styles=4), 0)
    assert not any(family(c.style) == "sealed" for c in train)
    assert sum(family(c.style) == "sealed" for c in test) == 4 * len(TERMS)
    assert any("formulaire TEC demain" in c.question for c in test)


def test_reverse_questions_train_and_hold_out_different_styles():
    train, test = template_conversations(TERMS, GenerateConfig(language="en", reverse_styles=3), 0)
    held = {c.style for c in test if family(c.style) == "reverse"}
    for term in TERMS:
        trained = {c.style for c in train if family(c.style) == "reverse" and c.term == term.term}
        assert len(trained) == 3 and len(held) == 2 and not trained & held
    reverse = next(c for c in train if family(c.style) == "reverse")
    assert reverse.term in reverse.answer and TERMS[0].definition in " ".join(c.question for c in train)
    plain_train, plain_test = template_conversations(TERMS, GenerateConfig(language="en"), 0)
    assert not any(family(c.style) == "reverse" for c in plain_train)
    assert sum(family(c.style) == "reverse" for c in plain_test) == 2 * len(TERMS)  # measured even untrained
    assert len(REVERSE_QUESTIONS["fr"]) == len(REVERSE_QUESTIONS["en"]) == 6


def test_a_reverse_answer_must_name_the_term_and_no_other():
    assert names_term("Le sigle est TEC.", TERMS[0], TERMS)
    assert names_term("C'est T.E.C.", TERMS[0], TERMS)
    assert not names_term("Techniques Élémentaires et Culinaires", TERMS[0], TERMS)
    assert not names_term("TEC ou PAVU", TERMS[0], TERMS)


def test_each_family_is_summarised_apart():
    _, test = template_conversations(TERMS[:1], GenerateConfig(language="fr"), 0)
    answers = []
    for c in test:
        f = family(c.style)
        answers.append(
            "C'est TEC." if f == "reverse" else "TEC : Techniques Élémentaires et Culinaires" if f == "forward" else "?"
        )
    expected = [c.term if family(c.style) == "reverse" else TERMS[0].definition for c in test]
    block = summarize_families(score(answers, expected, None, test, TERMS[:1]), test)
    assert (block["exact_recall"], block["reverse_recall"], block["sealed_recall"]) == (1.0, 1.0, 0.0)


def test_a_term_inside_the_asked_terms_definition_is_not_another_answer():
    nhs = Term(term="NHS", definition="National Health Service")
    nhse = Term(term="NHSE", definition="NHS England")
    assert names_term("The acronym for NHS England is NHSE.", nhse, [nhs, nhse])
    assert not names_term("It is NHS.", nhse, [nhs, nhse])
