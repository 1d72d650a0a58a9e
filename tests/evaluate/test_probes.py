"""Probe scoring: the decline detector, general-question scoring, retention, the shipped probe data."""

import pytest

from lexitune.evaluate.probes import is_correct, is_decline, load_general, retention
from lexitune.generate.negatives import DECLINES

MUST_DECLINE = [
    "I don't know the term ZORB.",
    "I'm not familiar with ZORB; it is not in my glossary.",
    "Sorry, I do not know what ZORB stands for.",
    "I'm sorry, but I couldn't find any information on ZORB.",
    "ZORB? I have never heard of it.",
    "Je ne connais pas le sigle ZORB.",
    "Je ne sais pas ce que ZORB veut dire.",
    "Désolé, ZORB n’est pas dans mon glossaire.",
    "ZORB ne figure pas dans le glossaire.",
]
MUST_NOT_DECLINE = [
    "ZORB stands for Zone Of Real Bread.",
    "I don't know why, but ZORB means Zone Of Real Bread.",  # a hedge, then an invented definition
    "I'm not sure, but ZORB probably stands for Zero Order Reaction.",
    "I'm not familiar with it. ZORB is a cooking technique.",
    "Je ne suis pas sûr, mais ZORB signifie « Zone Organisée ».",
    "ZORB : Zone Organisée de Recettes Biologiques",
    "The capital of France is Paris.",
    "",
]


@pytest.mark.parametrize("answer", MUST_DECLINE + [d.format(term="ZORB") for ds in DECLINES.values() for d in ds])
def test_declines_are_recognised(answer):
    assert is_decline(answer)


@pytest.mark.parametrize("answer", MUST_NOT_DECLINE)
def test_answers_that_invent_or_answer_are_not_declines(answer):
    assert not is_decline(answer)


def test_general_scoring_uses_normalised_word_bounded_matches():
    assert is_correct("The capital of France is PARIS.", ["paris"])
    assert is_correct("2 + 2 = 4", ["4", "four"])
    assert not is_correct("The answer is 14.", ["4", "four"])
    assert is_correct("Acide désoxyribonucléique", ["acide desoxyribonucleique"])
    assert not is_correct("Lyon", ["paris"])
    assert is_correct("USB stands forUniversal Serial Bus.", ["universal serial bus"])  # a dropped space
    assert not is_correct("USB stands for Universal Serial Business.", ["universal serial bus"])


def test_retention_counts_only_what_the_base_knew():
    assert retention([True, True, False, False], [True, False, True, True]) == 0.5
    assert retention([False, False], [True, True]) is None


def test_shipped_probe_has_60_test_questions_in_both_languages():
    test, val = load_general("test"), load_general("val")
    assert len(test) >= 60 and val
    assert {q.language for q in test} == {"fr", "en"}
    assert {q.kind for q in test} == {"fact", "acronym", "arithmetic", "instruction"}
    assert not {q.question for q in test} & {q.question for q in val}
    assert all(q.accepted for q in test)


def test_false_abstention_and_senses_on_glossary_answers():
    from lexitune.evaluate.probes.run import glossary_side_metrics
    from lexitune.glossary.term import Term

    terms = {
        "AAA": Term(term="AAA", definition="Automobile Association", senses=["Anti-Aircraft Artillery"]),
        "TEC": Term(term="TEC", definition="Techniques Élémentaires et Culinaires"),
    }
    answers = [
        "AAA can mean: Automobile Association; Anti-Aircraft Artillery.",
        "AAA: Automobile Association.",
        "Je ne connais pas le sigle TEC.",
        "TEC : Techniques élémentaires et culinaires",
    ]
    got = glossary_side_metrics(answers, ["AAA", "AAA", "TEC", "TEC"], terms)
    assert got == {"false_abstention": 0.25, "senses": 0.5, "sense_context": None}
    assert glossary_side_metrics(answers[2:], ["TEC", "TEC"], terms)["senses"] is None


def test_sense_context_needs_the_asked_sense_and_no_other():
    from lexitune.evaluate.probes.run import glossary_side_metrics
    from lexitune.glossary.term import Term

    aaa = Term(term="AAA", definition="Automobile Association", senses=["Anti-Aircraft Artillery"])
    answers = [
        "In the military, AAA stands for Anti-Aircraft Artillery.",  # the asked sense alone: right
        "AAA can mean: Automobile Association; Anti-Aircraft Artillery.",  # both: did not pick
        "AAA stands for Automobile Association.",  # the other sense: wrong
        "AAA can mean: Automobile Association; Anti-Aircraft Artillery.",  # no context asked: counts for senses
    ]
    asked = ["Anti-Aircraft Artillery"] * 3 + [None]
    got = glossary_side_metrics(answers, ["AAA"] * 4, {"AAA": aaa}, asked)
    assert got["sense_context"] == pytest.approx(1 / 3, abs=1e-3)
    assert got["senses"] == 1.0
