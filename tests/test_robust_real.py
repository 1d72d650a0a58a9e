"""The default recipe on the real shipped model, 6 culinary terms: it must learn the glossary and keep
what the model knew, in its weights (routing off, no guard), above floors set from measured runs.

    pytest -m slow tests/test_robust_real.py

Like TRL's invariant tests: a change that makes the default recipe worse fails here, whatever it is.
"""

from __future__ import annotations

import pytest

from tests.conftest import culinary_glossary

# Floors: the measured figures of this test's run (recorded in docs/experiments.md) less a margin
# for seed-to-seed noise on 18 held-out questions and 28-ish base-right general questions.
FLOORS = {"exact_recall": 0.80, "retention": 0.70, "abstention": 0.60}
CEILINGS = {"false_abstention": 0.15}


@pytest.mark.slow
def test_the_default_recipe_learns_and_keeps_what_it_knew(tmp_path):
    from lexitune.config import load_config
    from lexitune.pipeline import run_pipeline

    glossary = culinary_glossary(tmp_path, n=6)
    config = load_config(None, [f"glossary.path={glossary}", "generate.language=fr", "tracking=none"])
    assert config.recipe == "robust"
    metrics = run_pipeline(config, tmp_path / "run")
    after = metrics["after"]
    assert metrics["route"] == "always" and not metrics["guard_declines"] and "after_routed" not in metrics
    for key, floor in FLOORS.items():
        assert after[key] >= floor, (key, after)
    for key, ceiling in CEILINGS.items():
        assert after[key] <= ceiling, (key, after)
    assert after["exact_recall"] > metrics["before"]["exact_recall"] + 0.5
