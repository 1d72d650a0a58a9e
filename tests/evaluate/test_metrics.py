"""Metrics: what counts as containing the definition, and embedding similarity's ordering."""

import pytest

from lexitune.evaluate.metrics import EmbeddingScorer, contains_definition, fuzzy_score, normalize
from lexitune.evaluate.scoring import score, summarize


def test_normalize_folds_case_accents_punctuation_and_spaces():
    assert normalize("  Techniques  Élémentaires,\net Culinaires! ") == "techniques elementaires et culinaires"
    assert normalize("Savoir-Faire & Arômes") == "savoir faire aromes"


@pytest.mark.parametrize(
    ("answer", "definition", "expected"),
    [
        ("TEC signifie « techniques elementaires et culinaires ».", "Techniques Élémentaires et Culinaires", True),
        ("It stands for Department for Work and Pensions.", "Department for Work and Pensions", True),
        ("It stands for Department for Work.", "Department for Work and Pensions", False),
        ("Techniques Élémentaires", "Techniques Élémentaires et Culinaires", False),
        ("TECHNIQUES", "Tech", False),  # word boundaries: a prefix of a word is not the word
        ("", "Tech", False),
        ("anything", "", False),
    ],
)
def test_contains_definition(answer, definition, expected):
    assert contains_definition(answer, definition) is expected


def test_fuzzy_forgives_a_typo_but_not_another_meaning():
    assert fuzzy_score("TEC: Techniques Elementaire et Culinaires", "Techniques Élémentaires et Culinaires") >= 0.9
    assert fuzzy_score("TEC is a bus company", "Techniques Élémentaires et Culinaires") < 0.6


def test_embedding_similarity_ranks_the_right_meaning_first():
    scorer = EmbeddingScorer("default")
    sims = scorer.similarity(
        ["CPU means Central Processing Unit", "CPU is a kind of banana"],
        ["Central Processing Unit", "Central Processing Unit"],
    )
    assert sims[0] > 0.6 > sims[1]


def test_summary_is_the_mean_of_each_metric():
    rows = score(["X means Alpha Beta", "no idea"], ["Alpha Beta", "Gamma"], scorer=None)
    assert [r["exact"] for r in rows] == [True, False]
    summary = summarize(rows)
    assert summary["exact_recall"] == 0.5 and summary["embedding_similarity"] is None
    assert summary["judge_accuracy"] is None
