"""Probe scoring: the decline detector, general-question scoring, retention, the shipped probe data."""

import pytest

from lexitune.evaluate.probes import is_correct, is_decline, load_general, retention
from lexitune.evaluate.probes.general import general_question
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


def test_an_acronym_answer_is_judged_by_the_expansion_it_claims():
    faq = ["frequently asked questions"]
    # The base model's own answer, once counted right: the accepted words only describe the page.
    wrong = 'FAQ stands for "What\'s a Favorite Answer?" and is a web page that provides answers to frequently asked questions.'
    assert is_correct(wrong, faq)
    assert not is_correct(wrong, faq, expansion=True)
    assert is_correct("FAQ stands for Frequently Asked Questions, a page of answers.", faq, expansion=True)
    assert not is_correct("FAQ is short for Freedom of Information; frequently asked questions.", faq, expansion=True)
    assert is_correct(
        "NASA signifie National Aeronautics and Space Administration.", ["national aeronautics"], expansion=True
    )
    # No claim: the accepted words anywhere, as before.
    assert is_correct(
        "The National Aeronautics and Space Administration is an agency.", ["national aeronautics"], expansion=True
    )
    # A repeated question is not a claim; nor is a marker with nothing after it.
    question = "Que signifie le sigle ONU ?"
    onu = ["organisation des nations unies"]
    assert is_correct(f"{question} Organisation des Nations unies.", onu, expansion=True, question=question)
    assert not is_correct(f"{question} Organisation mondiale du commerce.", onu, expansion=True, question=question)
    assert is_correct("UN stands for:\nUnited Nations", ["united nations"], expansion=True)


def test_a_case_sensitive_question_wants_the_case():
    apple = general_question("g41")
    assert apple.case_sensitive and apple.is_right("APPLE")
    assert not apple.is_right('The word "apple" is a classic example of a word.')
    assert not apple.is_right("Apple")


def test_shipped_questions_are_judged_by_their_kind():
    faq, paris = general_question("g28"), general_question("g01")
    assert faq.kind == "acronym" and not faq.is_right(
        'FAQ stands for "What\'s a Favorite Answer?" on frequently asked questions.'
    )
    assert faq.is_right("FAQ stands for frequently asked questions.")
    assert paris.is_right("The capital of France is Paris.")
    with pytest.raises(KeyError, match="g999"):
        general_question("g999")


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
