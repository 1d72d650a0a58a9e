"""End to end on the shipped model: replay keeps more general knowledge than plain SFT.

Two short real runs on 4 culinary terms, trained hard enough (6 epochs at lr 2e-3) that plain SFT
forgets some general answers; the run with replay (the base model's own answers mixed in) must
keep more of what the base model knew. The base model's answers are computed once and shared.
"""

import shutil

import pytest

from lexitune.pipeline import run_pipeline


@pytest.mark.slow
def test_replay_retains_more_than_plain_sft(tiny_config, tmp_path):
    config = tiny_config.model_copy(deep=True)
    config.model.name = "default"
    config.train.epochs = 6
    config.train.batch_size = 8
    config.eval.max_new_tokens = 24
    config.eval.probe_limit = 32
    config.eval.unknown_terms = 0
    plain = run_pipeline(config, tmp_path / "plain")
    config.train.replay_ratio = 1.0
    (tmp_path / "replay" / "eval").mkdir(parents=True)
    for name in ("before.json", "probes_before.json"):
        shutil.copy(tmp_path / "plain" / "eval" / name, tmp_path / "replay" / "eval" / name)
    replay = run_pipeline(config, tmp_path / "replay")
    assert plain["after"]["exact_recall"] >= 0.5  # the glossary is learnt either way
    assert replay["after"]["retention"] > plain["after"]["retention"], (plain["after"], replay["after"])
