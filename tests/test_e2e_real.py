"""End to end on the real shipped model: training must raise held-out recall, as a user would check.

pytest -m slow tests/test_e2e_real.py
"""

import pytest

# Floors from the runs of this fixture (4 terms: 12 held-out forward questions, 16 sealed ones). The
# AMD fp32 and Intel bf16 (AMX) machines met 0.75 held-out; an AMD EPYC in bf16 (AVX512-BF16,
# 2026-12-07) measured 0.58 held-out (7 of 12: it missed the style "Au fait, TEC, ça veut dire quoi
# exactement ?" on three terms and two styles on the fourth) and 0.94 sealed. Kernels that round differently lead plain
# SFT down another path, so the floors leave room for that, and still fail an untrained model (0.0).
HELD_OUT_FLOOR, SEALED_FLOOR = 0.5, 0.75


@pytest.mark.slow
def test_training_the_shipped_model_teaches_unseen_phrasings(real_plain_run):
    _, metrics = real_plain_run
    assert metrics["test_questions"] == 4 * (3 + 2 + 4)  # forward, reverse and sealed questions a term
    assert metrics["before"]["exact_recall"] <= 0.1, "the base model cannot know invented acronyms"
    assert metrics["after"]["exact_recall"] >= HELD_OUT_FLOOR, metrics
    assert metrics["after"]["sealed_recall"] >= SEALED_FLOOR, metrics
    assert metrics["after"]["embedding_similarity"] > metrics["before"]["embedding_similarity"] + 0.3
