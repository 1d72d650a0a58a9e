"""End to end on the real shipped model: training must raise held-out recall, as a user would check.

pytest -m slow tests/test_e2e_real.py
"""

import json

import pytest

from lexitune.config import load_config
from lexitune.pipeline import run_pipeline
from tests.conftest import EXAMPLES


@pytest.mark.slow
def test_training_the_shipped_model_teaches_unseen_phrasings(tmp_path):
    terms = json.loads((EXAMPLES / "culinary-fr" / "glossary.json").read_text(encoding="utf-8"))[:4]
    glossary = tmp_path / "g.json"
    glossary.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    cfg = load_config(
        None,
        [
            f"glossary.path={glossary}",
            "generate.language=fr",
            "train.epochs=5",
            "train.learning_rate=2e-3",
            "eval.max_new_tokens=40",
        ],
    )
    metrics = run_pipeline(cfg, tmp_path / "run")
    assert metrics["test_questions"] == 12
    assert metrics["before"]["exact_recall"] <= 0.1, "the base model cannot know invented acronyms"
    assert metrics["after"]["exact_recall"] >= 0.75, metrics
    assert metrics["after"]["embedding_similarity"] > metrics["before"]["embedding_similarity"] + 0.3
