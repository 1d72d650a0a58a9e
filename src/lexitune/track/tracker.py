"""Experiment tracking: one tracker object per run logs params, per-step metrics and artefacts.

MLflow is driven through `MlflowClient` with an explicit run id, never through mlflow's global
"active run", so several runs (a sweep's trials) can live in one process without stepping on each
other. `mlflow` is imported only when a tracker is actually made: it costs seconds.

    lexitune run examples/culinary-fr/lexitune.yaml --out runs/culinary   # then: mlflow ui --backend-store-uri sqlite:///runs/mlruns/mlflow.db
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lexitune.config import Config
from lexitune.rundir import RunDir, read_json, write_json

STEP_KEYS = ("loss", "lr", "tokens_per_second", "epoch")
# The run folder's files logged as artefacts (RunDir properties).
ARTEFACTS = ("config", "metrics", "answers", "probes", "train_log", "curve", "train_result", "timings", "report")
MAX_PARAM_CHARS = 6000  # MLflow's limit on a parameter value


def flatten(data: dict, prefix: str = "") -> dict[str, Any]:
    """{"train": {"lora": {"r": 16}}} -> {"train.lora.r": 16}; lists and None become strings."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def default_uri(run_root: Path) -> str:
    """$MLFLOW_TRACKING_URI, else a SQLite store in `mlruns/` beside the run folder.

    MLflow 3 refuses its old plain-folder store, so the local default is a SQLite file: it still
    needs no server, and `mlflow ui --backend-store-uri sqlite:///runs/mlruns/mlflow.db` reads it.
    """
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    folder = run_root.resolve().parent / "mlruns"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'mlflow.db'}"


class NullTracker:
    """`tracking: none`: every call does nothing, so callers never test for tracking."""

    run_id: str | None = None

    def start(self, config: Config, run: RunDir) -> None: ...
    def log_step(self, row: dict) -> None: ...
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None: ...
    def log_run_folder(self, run: RunDir) -> None: ...
    def end(self, status: str = "FINISHED") -> None: ...


class MlflowTracker(NullTracker):
    """Logs one lexitune run as one MLflow run; the run id is kept in the run folder (tracking.json)
    so `lexitune train` then `lexitune eval`, or a `--resume`, continue the same MLflow run."""

    def __init__(self, uri: str, experiment: str, flush_every: int = 20):
        from mlflow.tracking import MlflowClient

        # "Creating initial MLflow database tables..." and alembic's migration lines are noise here.
        for name in ("mlflow", "alembic"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self.uri, self.experiment, self.flush_every = uri, experiment, flush_every
        self.client = MlflowClient(tracking_uri=uri)
        self.run_id = None
        self._pending: list = []

    def _experiment_id(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return found.experiment_id
        artifacts = None
        if self.uri.startswith("sqlite:///"):
            # Artefacts beside the database, not in the working directory MLflow would pick.
            artifacts = (Path(self.uri.removeprefix("sqlite:///")).parent / "artifacts").resolve().as_uri()
        try:
            return self.client.create_experiment(self.experiment, artifact_location=artifacts)
        except Exception:  # another sweep worker created it first
            return self.client.get_experiment_by_name(self.experiment).experiment_id

    def start(self, config: Config, run: RunDir) -> None:
        marker = run.tracking
        if marker.exists():
            saved = read_json(marker)
            if saved.get("uri") == self.uri:
                self.run_id = saved["run_id"]
                self.client.update_run(self.run_id, status="RUNNING")
                return
        created = self.client.create_run(
            self._experiment_id(),
            run_name=run.root.name,
            tags={"lexitune.run_folder": str(run.root.resolve()), "lexitune.name": config.name},
        )
        self.run_id = created.info.run_id
        write_json(marker, {"uri": self.uri, "experiment": self.experiment, "run_id": self.run_id})
        self._log_params(config)

    def _log_params(self, config: Config) -> None:
        from mlflow.entities import Param

        params = [Param(k, str(v)[:MAX_PARAM_CHARS]) for k, v in flatten(config.model_dump(mode="json")).items()]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params per batch
            self.client.log_batch(self.run_id, params=params[i : i + 100])

    def log_step(self, row: dict) -> None:
        """A training-loop callback: buffers the step's numbers and writes them in batches."""
        self.log_metrics({k: row[k] for k in STEP_KEYS if k in row}, step=int(row["step"]), flush=False)

    def log_metrics(self, metrics: dict[str, float], step: int | None = None, flush: bool = True) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._pending += [Metric(k, float(v), now, step or 0) for k, v in metrics.items() if v is not None]
        if flush or len(self._pending) >= self.flush_every * len(STEP_KEYS):
            self._flush()

    def _flush(self) -> None:
        for i in range(0, len(self._pending), 1000):  # MLflow's batch limit
            self.client.log_batch(self.run_id, metrics=self._pending[i : i + 1000])
        self._pending = []

    def log_run_folder(self, run: RunDir) -> None:
        """The evaluation metrics and the run's files: adapter (or model), answers, metrics, report."""
        self._flush()
        if run.metrics.exists():
            metrics = read_json(run.metrics)
            flat = {f"{side}.{k}": v for side in ("before", "after") for k, v in (metrics.get(side) or {}).items()}
            self.log_metrics({k: v for k, v in flat.items() if isinstance(v, (int, float))})
            train = metrics.get("train") or {}
            self.log_metrics(
                {f"train.{k}": train[k] for k in ("seconds", "steps", "tokens_per_second", "final_loss") if k in train}
            )
        for name in ARTEFACTS:
            if (path := getattr(run, name)).exists():
                self.client.log_artifact(self.run_id, str(path))
        for folder in (run.adapter, run.full_model):
            if folder.is_dir():
                self.client.log_artifacts(self.run_id, str(folder), artifact_path=folder.name)

    def end(self, status: str = "FINISHED") -> None:
        if self.run_id is None:
            return
        self._flush()
        self.client.set_terminated(self.run_id, status=status)


def make_tracker(config: Config, run_root: Path) -> NullTracker:
    """The tracker `config.tracking` asks for; MLflow is imported only here, and only when used."""
    from lexitune.train.distributed import current_world

    # Under `accelerate launch` one run is one MLflow run: only the main process logs.
    if config.tracking.backend == "none" or not current_world().is_main:
        return NullTracker()
    return MlflowTracker(config.tracking.uri or default_uri(run_root), config.tracking.experiment or config.name)


@contextmanager
def tracked(config: Config, run: RunDir) -> Iterator[NullTracker]:
    """A started tracker for the block; the MLflow run ends FINISHED, KILLED (Ctrl-C, a pruned
    sweep trial) or FAILED as the block does."""
    tracker = make_tracker(config, run.root)
    tracker.start(config, run)
    status = "FAILED"
    try:
        yield tracker
        status = "FINISHED"
    except BaseException as e:
        status = "KILLED" if isinstance(e, KeyboardInterrupt) or type(e).__name__ == "TrialPruned" else "FAILED"
        raise
    finally:
        tracker.end(status)
