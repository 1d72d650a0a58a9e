"""`lexitune sweep` on the tiny model: a 6-trial grid killed mid-way resumes to completion, each
trial tracked in MLflow, then the ranked best config and the comparison page."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from lexitune.config import load_config
from tests.conftest import EXAMPLES, ROOT, culinary_glossary

GRID = {"train.learning_rate": [1.0e-3, 1.0e-2, 5.0e-2], "train.lora.r": [4, 8]}


def _finished(folder: Path) -> int:
    return sum(
        1 for p in folder.glob("trial-*/trial.json") if json.loads(p.read_text())["state"] in ("complete", "pruned")
    )


@pytest.fixture(scope="module")
def sweep_dir(tiny_model_dir, mlflow_uri, tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sweep")
    culinary_glossary(base)
    config = {
        "recipe": "plain",
        "name": "tinysweep",
        "glossary": {"path": "glossary.json"},
        "generate": {"language": "fr"},
        "model": {"name": str(tiny_model_dir)},
        "train": {"batch_size": 4, "max_steps": 1, "threads": 1},
        "eval": {
            "max_new_tokens": 4,
            "embedding_model": "none",
            "before": False,
            "limit": 4,
            "curve_every": 1,
            "curve_sample": 4,
        },
        "tracking": {"uri": mlflow_uri, "experiment": "tinysweep"},
        "sweep": {"grid": GRID},
    }
    (base / "sweep.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    out = base / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    worker = subprocess.Popen(
        [sys.executable, "-m", "lexitune.cli", "sweep", str(base / "sweep.yaml"), "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Kill it (as a crash would) once two trials are done and the third has started.
        deadline = time.time() + 300
        while not (
            _finished(out) >= 2
            and any((p / "config.yaml").exists() and not (p / "trial.json").exists() for p in out.glob("trial-*"))
        ):
            assert worker.poll() is None, "the sweep ended before it could be killed"
            assert time.time() < deadline, "the sweep did not get through two trials in time"
            time.sleep(0.2)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait()
    assert _finished(out) < 6
    from lexitune.sweep import run_sweep

    run_sweep(load_config(base / "sweep.yaml"), trials=None, out=out)  # the grid's 6 trials
    return out


@pytest.mark.slow
def test_killed_sweep_resumes_to_every_grid_point(sweep_dir):
    import optuna
    from optuna.trial import TrialState

    study = optuna.load_study(study_name="tinysweep", storage=f"sqlite:///{sweep_dir / 'study.db'}")
    done = [t for t in study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    failed = [t for t in study.trials if t.state == TrialState.FAIL]
    assert len(done) == 6
    assert {(t.params["train.learning_rate"], t.params["train.lora.r"]) for t in done} == {
        (lr, r) for lr in GRID["train.learning_rate"] for r in GRID["train.lora.r"]
    }
    assert len(failed) == 1, "the trial running when the sweep was killed is marked failed (and retried)"
    assert all(t.state != TrialState.RUNNING for t in study.trials)
    for t in done:
        assert (Path(t.user_attrs["run_folder"]) / "report.html").exists() or t.state == TrialState.PRUNED


@pytest.mark.slow
def test_each_trial_is_an_mlflow_run_of_one_experiment(sweep_dir, mlflow_uri):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=mlflow_uri)
    runs = client.search_runs([client.get_experiment_by_name("tinysweep").experiment_id])
    finished = [r for r in runs if r.info.status == "FINISHED"]
    assert len(finished) == 6
    assert all(r.info.status != "RUNNING" for r in runs), "the killed trial's MLflow run is ended too"
    assert {r.data.params["train.lora.r"] for r in finished} == {"4", "8"}
    assert all(len(client.get_metric_history(r.info.run_id, "loss")) >= 1 for r in finished)


@pytest.mark.slow
def test_best_config_is_ready_to_run(sweep_dir):
    best = load_config(sweep_dir / "best.yaml")
    assert best.sweep.grid == {} and best.train.learning_rate in GRID["train.learning_rate"]
    assert best.train.max_steps == 1 and best.glossary.path.exists()


@pytest.mark.slow
def test_comparison_report_ranks_the_trials(sweep_dir, tmp_path, browser):
    from typer.testing import CliRunner

    from lexitune.cli import app

    out = tmp_path / "compare.html"
    result = CliRunner().invoke(app, ["report", str(sweep_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = browser(out)
    assert page.console == [], f"console errors: {page.console}"
    assert page.dom.count("<tr") == 1 + len(list(sweep_dir.glob("trial-*"))), "one row per trial folder"
    assert "train.learning_rate" in page.dom and "exact recall vs train.learning_rate" in page.dom
    from tests.conftest import pixel_spread

    assert pixel_spread(page.screenshot) > 10


def test_shipped_sweep_config_and_search_space():
    import optuna

    from lexitune.sweep import grid_size, suggest, with_params

    config = load_config(EXAMPLES / "culinary-fr" / "sweep.yaml")
    assert grid_size(config.sweep) == 9 and config.glossary.path.exists()
    space = load_config(
        None,
        [
            "sweep.space={train.learning_rate: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}, "
            "train.lora.r: {type: categorical, choices: [4, 8]}, train.epochs: {type: int, low: 1, high: 3}}"
        ],
    )
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    params = suggest(trial, space.sweep)
    tuned = with_params(space, params)
    assert (
        1e-4 <= tuned.train.learning_rate <= 1e-2 and tuned.train.lora.r in (4, 8) and tuned.train.epochs in (1, 2, 3)
    )
    from lexitune.errors import LexituneError

    with pytest.raises(LexituneError, match="train.nope is not a setting"):
        with_params(space, {"train.nope": 1})


def test_sweep_of_an_unknown_setting_fails_before_any_trial(tmp_path):
    from typer.testing import CliRunner

    from lexitune.cli import app

    config = tmp_path / "bad.yaml"
    config.write_text("name: bad\nsweep:\n  grid:\n    train.learnig_rate: [0.001, 0.01]\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["sweep", str(config), "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, Exception) and "train.learnig_rate is not a setting" in str(result.exception)
    assert not (tmp_path / "out" / "study.db").exists()


def test_a_run_killed_before_its_marker_was_written_is_ended_by_tag(tmp_path):
    from mlflow.tracking import MlflowClient

    from lexitune.sweep import _end_mlflow_run

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    folder = tmp_path / "trial-0003"
    folder.mkdir()
    experiment = client.create_experiment("x", artifact_location=(tmp_path / "art").as_uri())
    dead = client.create_run(experiment, tags={"lexitune.run_folder": str(folder.resolve())})
    other = client.create_run(experiment, tags={"lexitune.run_folder": str((tmp_path / "other").resolve())})
    _end_mlflow_run(folder, uri)  # no tracking.json in the folder
    assert client.get_run(dead.info.run_id).info.status == "KILLED"
    assert client.get_run(other.info.run_id).info.status == "RUNNING"
