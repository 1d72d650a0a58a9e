"""The fixes table's variants: plain SFT turns every fix off, each row adds only its own settings."""

import importlib.util
import json
from pathlib import Path

from lexitune.config import load_config

BENCH = Path(__file__).resolve().parents[1] / "bench" / "fixes.py"
CONFIG = Path(__file__).resolve().parents[1] / "examples" / "culinary-fr" / "lexitune.yaml"


def _fixes():
    spec = importlib.util.spec_from_file_location("bench_fixes", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_variant_differs_from_plain_sft_by_its_own_fixes_only():
    table = _fixes().variants("fr", replay=1.0, negatives=1.0, augment=0.5, known=0.25, arithmetic=0.25)
    configs = {name: load_config(CONFIG, sets) for name, sets in table.items()}
    plain = configs["plain SFT"]
    assert plain.train.replay_ratio == 0 and plain.generate.negatives == 0 and plain.experimental.augment == 0
    assert plain.generate.system_prompt is None and not plain.experimental.select and not plain.train.replay_distill
    assert plain.train.replay_known == 0 and plain.experimental.replay_arithmetic == 0
    replay = configs["+ replay"]
    assert replay.train.replay_ratio == 1.0 and replay.train.replay_distill and replay.generate.negatives == 0
    assert replay.train.replay_known == 0.25 and replay.experimental.replay_arithmetic == 0.25
    assert configs["+ negatives"].generate.negatives == 1.0 and configs["+ negatives"].train.replay_ratio == 0
    assert configs["+ negatives + augment"].experimental.augment == 0.5
    assert configs["+ scope"].generate.system_prompt and configs["+ selection"].experimental.select
    pair = configs["replay + negatives"]
    assert pair.train.replay_ratio == 1.0 and pair.generate.negatives == 1.0 and pair.experimental.augment == 0
    scoped = configs["replay + negatives + scope"]
    assert scoped.generate.system_prompt and scoped.generate.negatives == 1.0 and scoped.train.replay_ratio == 1.0
    assert scoped.experimental.augment == 0 and not scoped.experimental.select
    every = configs["all fixes"]
    assert every.train.replay_distill and every.experimental.augment == 0.5 and every.experimental.select
    assert every.generate.system_prompt and every.generate.negatives == 1.0


def test_a_routed_row_is_the_same_run_evaluated_again_with_routing(trained_run, tmp_path):
    import shutil

    from lexitune.rundir import RunDir

    folder = tmp_path / "replay-negatives"
    shutil.copytree(trained_run, folder)
    metrics = _fixes().reevaluated(folder, "routing")
    copy = tmp_path / "replay-negatives-routed"
    assert metrics["route"] == "glossary" and RunDir(copy).load_config().model.route == "glossary"
    assert not metrics["guard_declines"]
    assert metrics["train"] == json.loads((folder / "metrics.json").read_text())["train"]  # no training
    assert RunDir(folder).load_config().model.route == "always"  # the measured run is left as it was
    (copy / "probes.jsonl").unlink()
    assert _fixes().reevaluated(folder, "routing") == metrics and not (copy / "probes.jsonl").exists()  # done once
    guarded = _fixes().reevaluated(folder, "routing + guard")
    config = RunDir(tmp_path / "replay-negatives-routed-guarded").load_config()
    assert guarded["guard_declines"] and config.model.guard_declines and config.model.route == "glossary"
