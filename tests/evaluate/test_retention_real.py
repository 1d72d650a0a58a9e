"""End to end on the shipped model: replay keeps more general knowledge than plain SFT.

The plain SFT run (`real_plain_run`, 4 culinary terms, trained hard enough, 6 epochs at lr 2e-3,
that it forgets some general answers) is shared with the end-to-end test; the run with replay (the
base model's own answers mixed in) must keep more of what the base model knew. The base model's
answers are computed once and shared.
"""

import shutil

import pytest

from lexitune.pipeline import run_pipeline
from lexitune.rundir import RunDir


@pytest.mark.slow
def test_replay_retains_more_than_plain_sft(real_plain_run, tmp_path):
    plain_dir, plain = real_plain_run
    config = RunDir(plain_dir).load_config()
    config.train.replay_ratio = 1.0
    (tmp_path / "replay" / "eval").mkdir(parents=True)
    for name in ("before.json", "probes_before.json"):
        shutil.copy(plain_dir / "eval" / name, tmp_path / "replay" / "eval" / name)
    replay = run_pipeline(config, tmp_path / "replay")
    assert plain["after"]["exact_recall"] >= 0.5  # the glossary is learnt either way
    assert replay["after"]["retention"] > plain["after"]["retention"], (plain["after"], replay["after"])
