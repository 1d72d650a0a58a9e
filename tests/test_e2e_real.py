"""End to end on the real shipped model: training must raise held-out recall, as a user would check.

pytest -m slow tests/test_e2e_real.py
"""

import pytest


@pytest.mark.slow
def test_training_the_shipped_model_teaches_unseen_phrasings(real_plain_run):
    _, metrics = real_plain_run
    assert metrics["test_questions"] == 4 * (3 + 2 + 4)  # forward, reverse and sealed questions a term
    assert metrics["before"]["exact_recall"] <= 0.1, "the base model cannot know invented acronyms"
    assert metrics["after"]["exact_recall"] >= 0.75, metrics
    assert metrics["after"]["embedding_similarity"] > metrics["before"]["embedding_similarity"] + 0.3
