"""On a tiny run with every fix on, metrics.json carries the probe keys and probes.jsonl the answers."""

import json

from lexitune.pipeline import run_pipeline
from lexitune.rundir import RunDir


def test_probe_keys_and_files_with_every_fix(tiny_config, tmp_path):
    for key, value in {"negatives": 0.5}.items():
        setattr(tiny_config.generate, key, value)
    tiny_config.train.replay_ratio = 0.25
    tiny_config.train.replay_max_new_tokens = 8
    tiny_config.experimental.select = True
    tiny_config.experimental.select_every = 4
    tiny_config.eval.probe_limit = 4
    tiny_config.eval.unknown_terms = 2
    out = tmp_path / "run"
    metrics = run_pipeline(tiny_config, out)
    run = RunDir(out)
    for side in ("before", "after"):
        for key in ("exact_recall", "retention", "abstention", "false_abstention", "senses", "general_accuracy"):
            assert key in metrics[side], f"{side}.{key} missing"
    assert metrics["after"]["senses"] is None  # no term with several senses here
    rows = [json.loads(line) for line in (out / "probes.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in rows].count("general") == 4 and [r["kind"] for r in rows].count("unknown") == 6
    assert {"question", "before", "after"} <= set(rows[0])
    train = [json.loads(line) for line in run.train_data.read_text().splitlines()]
    assert sum(r["style"].startswith("negative/") for r in train) == 16  # 0.5 x 32 glossary conversations
    assert (out / "data" / "replay.jsonl").exists()
    selection = json.loads((out / "selection.json").read_text())
    assert selection["best"] is not None and selection["history"]
