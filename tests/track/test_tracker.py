"""MLflow tracking of a whole tiny run: params, per-step metrics, the curve and the artefacts."""

from __future__ import annotations

import json
import subprocess
import sys

from lexitune.config import load_config
from lexitune.pipeline import run_pipeline
from lexitune.rundir import RunDir, read_json
from lexitune.track.tracker import NullTracker, flatten, make_tracker


def test_run_is_tracked_with_curve_and_early_stopping(tiny_config, tmp_path, mlflow_uri):
    from mlflow.tracking import MlflowClient

    uri = mlflow_uri
    config = tiny_config.model_copy(deep=True)
    config.tracking.backend, config.tracking.uri, config.tracking.experiment = "mlflow", uri, "tests"
    config.train.epochs, config.eval.curve_every, config.train.early_stopping_patience = 3, 2, 2
    config.eval.curve_sample, config.eval.limit, config.train.threads = 4, 4, 1
    config.eval.before = False
    run = RunDir(tmp_path / "run")
    run_pipeline(config, run.root)

    # The tiny random model never answers right: recall stays at its first value, so with patience
    # 2 training stops after 3 curve points (steps 2, 4, 6) of the 24 planned, and step 2's
    # weights are put back.
    curve = [json.loads(line) for line in run.curve.read_text().splitlines()]
    assert [p["step"] for p in curve] == [2, 4, 6]
    assert all(p["questions"] == 4 for p in curve)
    train = read_json(run.train_result)
    assert train["steps"] == 6 and train["curve"] == {
        "best_exact_recall": 0.0,
        "best_step": 2,
        "points": 3,
        "restored_best": True,
    }

    client = MlflowClient(tracking_uri=uri)
    [mlrun] = client.search_runs([client.get_experiment_by_name("tests").experiment_id])
    assert mlrun.info.status == "FINISHED" and mlrun.info.run_id == read_json(run.tracking)["run_id"]
    assert mlrun.data.params["train.learning_rate"] == str(config.train.learning_rate)
    assert mlrun.data.params["eval.curve_every"] == "2"
    assert [m.step for m in client.get_metric_history(mlrun.info.run_id, "loss")] == [1, 2, 3, 4, 5, 6]
    assert len(client.get_metric_history(mlrun.info.run_id, "tokens_per_second")) == 6
    assert [m.step for m in client.get_metric_history(mlrun.info.run_id, "curve.exact_recall")] == [2, 4, 6]
    assert mlrun.data.metrics["after.exact_recall"] == read_json(run.metrics)["after"]["exact_recall"]
    assert mlrun.data.metrics["train.steps"] == 6
    files = {a.path for a in client.list_artifacts(mlrun.info.run_id)}
    assert {"adapter", "answers.jsonl", "metrics.json", "report.html", "curve.jsonl", "config.yaml"} <= files
    assert "adapter/adapter_model.safetensors" in {a.path for a in client.list_artifacts(mlrun.info.run_id, "adapter")}
    report = run.report.read_text()
    assert report.count("<svg") == 2, "loss and recall curves"


def test_tracking_none_is_a_null_tracker_and_never_imports_mlflow(tmp_path):
    config = load_config(None, ["tracking=none"])
    assert config.tracking.backend == "none"
    assert isinstance(make_tracker(config, tmp_path / "run"), NullTracker)
    code = (
        "import sys; from lexitune.config import load_config; from lexitune.track import make_tracker; "
        "import lexitune.sweep, lexitune.report; "
        "make_tracker(load_config(None, ['tracking.backend=none']), __import__('pathlib').Path('x')); "
        "assert 'mlflow' not in sys.modules and 'optuna' not in sys.modules, 'imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
    assert not (tmp_path / "mlruns").exists()


def test_flatten_gives_dotted_keys():
    assert flatten({"train": {"lora": {"r": 16, "target_modules": ["q"]}, "epochs": 3}, "name": "x"}) == {
        "train.lora.r": 16,
        "train.lora.target_modules": ["q"],
        "train.epochs": 3,
        "name": "x",
    }
