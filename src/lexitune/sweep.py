"""Hyper-parameter sweeps with Optuna: a search space (or a plain grid) declared in the config.

Each trial is a whole run (its own folder under the sweep folder, its own MLflow run in the study's
experiment); the objective is the held-out exact recall, ties broken by training time; trials are
pruned from the learning curve while they train. The study lives in an Optuna storage (a SQLite
file in the sweep folder by default), so a killed sweep resumes where it stopped and several
machines can work on one study through a shared database URL.

    lexitune sweep examples/culinary-fr/sweep.yaml --trials 6
    lexitune sweep examples/culinary-fr/sweep.yaml --storage postgresql://user:pw@db/optuna --study culinary
"""

from __future__ import annotations

import json
import math
import os
import socket
import warnings
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

from lexitune.config import Config, SweepConfig, validate_config
from lexitune.errors import LexituneError
from lexitune.rundir import RunDir, write_json, write_text

# objective = recall - TIE_BREAK * training seconds: recall moves in steps of 1/questions (>= 0.002
# for up to 500 questions), far above the time term for any training under ~30 minutes, so time
# only decides between equal recalls. One number, unlike a multi-objective study, lets the
# learning curve prune trials.
TIE_BREAK = 1e-6


def suggest(trial, sweep: SweepConfig) -> dict[str, Any]:
    """The trial's values for every swept setting (dotted config path → value)."""
    params: dict[str, Any] = {}
    for key, values in sweep.grid.items():
        params[key] = trial.suggest_categorical(key, values)
    for key, p in sweep.space.items():
        if p.type == "categorical":
            if not p.choices:
                raise LexituneError(f"sweep.space.{key}: a categorical parameter needs choices")
            params[key] = trial.suggest_categorical(key, p.choices)
            continue
        if p.low is None or p.high is None:
            raise LexituneError(f"sweep.space.{key}: {p.type} parameters need low and high")
        if p.type == "int":
            params[key] = trial.suggest_int(key, int(p.low), int(p.high), log=p.log, step=int(p.step or 1))
        else:
            params[key] = trial.suggest_float(key, p.low, p.high, log=p.log, step=p.step)
    return params


def with_params(config: Config, params: dict[str, Any]) -> Config:
    """A copy of `config` with dotted settings replaced; validated like any config."""
    data = config.model_dump(mode="json")
    for key, value in params.items():
        if key in ("recipe", "recipe_version"):
            # A trial's config is complete already: a recipe laid under it would change nothing.
            raise LexituneError(f"sweep: {key} cannot be swept; sweep the settings the recipes differ in")
        node = data
        *parents, last = key.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                raise LexituneError(f"sweep: {key}: {part} is not a config section")
            node = node[part]
        if last not in node:
            raise LexituneError(f"sweep: {key} is not a setting")
        node[last] = value
    return validate_config(data, "sweep")


def open_study(config: Config, storage_url: str, study_name: str):
    """Create or reopen the study; trials whose worker died are failed and queued again."""
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # the heartbeat
    sweep = config.sweep
    retry = RetryHeartbeatStaleTrialCallback(max_retry=2)
    # The heartbeat catches workers that died on other machines: a RUNNING trial silent for three
    # beats is failed and queued again by the next worker to start a trial.
    storage = RDBStorage(
        storage_url,
        heartbeat_interval=sweep.heartbeat_seconds,
        grace_period=3 * sweep.heartbeat_seconds,
        heartbeat_stale_trial_callback=retry,
    )
    if sweep.grid:
        sampler = optuna.samplers.GridSampler(sweep.grid, seed=sweep.sampler_seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=sweep.sampler_seed)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2) if sweep.pruner == "median" else optuna.pruners.NopPruner()
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )
    _fail_dead_local_trials(study, retry, config)
    return study


def _fail_dead_local_trials(study, retry, config: Config) -> None:
    """A trial left RUNNING by a killed process of this machine is failed at once, without waiting
    for its heartbeat to go stale; then every failed trial whose parameters were never finished
    (a crash, Ctrl-C) is queued again, so no grid point is lost."""
    from optuna.trial import TrialState

    host = socket.gethostname()
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial.user_attrs.get("host") == host and not _alive(trial.user_attrs.get("pid")):
            study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
            if trial.user_attrs.get("run_folder") and config.tracking.backend == "mlflow":
                _end_mlflow_run(Path(trial.user_attrs["run_folder"]), config.tracking.uri)
    trials = study.get_trials(deepcopy=False)
    covered = {_key(t.params) for t in trials if t.state != TrialState.FAIL}
    for trial in trials:
        if trial.state == TrialState.FAIL and trial.params and _key(trial.params) not in covered:
            retry(study, trial)  # gives up after max_retry tries of the same parameters
            covered.add(_key(trial.params))


def _end_mlflow_run(folder: Path, uri: str | None) -> None:
    """The dead trial's MLflow run, left RUNNING by the killed process, is marked KILLED.

    The run folder's tracking.json names it; a process killed between creating the MLflow run and
    writing that file left none, so the run is then found by its run-folder tag."""
    from mlflow.tracking import MlflowClient

    from lexitune.track.tracker import default_uri

    marker = RunDir(folder).tracking
    if marker.is_file():
        saved = json.loads(marker.read_text(encoding="utf-8"))
        MlflowClient(tracking_uri=saved["uri"]).set_terminated(saved["run_id"], status="KILLED")
        return
    client = MlflowClient(tracking_uri=uri or default_uri(folder))
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return
    tag = str(folder.resolve()).replace("'", "\\'")
    for run in client.search_runs(
        experiments, filter_string=f"tags.`lexitune.run_folder` = '{tag}' and attributes.status = 'RUNNING'"
    ):
        client.set_terminated(run.info.run_id, status="KILLED")


def _key(params: dict) -> str:
    return json.dumps(params, sort_keys=True)


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True  # not ours to judge: the heartbeat will tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def grid_size(sweep: SweepConfig) -> int:
    return math.prod(len(v) for v in sweep.grid.values()) if sweep.grid else 0


def run_sweep(
    config: Config,
    *,
    trials: int | None,
    out: Path,
    storage: str | None = None,
    study_name: str | None = None,
    console: Console | None = None,
):
    """Run trials until `trials` of them have finished (complete or pruned), across all workers."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    from lexitune.pipeline import run_pipeline
    from lexitune.report import write_comparison

    console = console or Console(stderr=True)
    sweep = config.sweep
    if sweep.grid and sweep.space:
        raise LexituneError("sweep: give either sweep.grid or sweep.space, not both")
    if not sweep.grid and not sweep.space:
        raise LexituneError("sweep: the config declares no sweep.space or sweep.grid to search")
    # A misspelt setting fails here, once, rather than in every trial.
    with_params(config, {k: v[0] for k, v in sweep.grid.items() if v})
    with_params(config, {k: p.choices[0] if p.choices else p.low for k, p in sweep.space.items()})
    trials = trials or grid_size(sweep)
    if not trials:
        raise LexituneError("sweep: --trials is needed with a sweep.space")
    out.mkdir(parents=True, exist_ok=True)
    storage = storage or f"sqlite:///{(out / 'study.db').resolve()}"
    study_name = study_name or config.name
    study = open_study(config, storage, study_name)
    pruning = sweep.pruner != "none" and config.eval.curve_every > 0
    if sweep.pruner != "none" and not pruning:
        console.print("[yellow]no pruning: set eval.curve_every so trials report a learning curve[/yellow]")
    finished = (TrialState.COMPLETE, TrialState.PRUNED)

    def objective(trial) -> float:
        params = suggest(trial, sweep)
        trial.set_user_attr("host", socket.gethostname())
        trial.set_user_attr("pid", os.getpid())
        trial_config = with_params(config, params)
        trial_config.tracking.experiment = config.tracking.experiment or study_name
        run_dir = out / f"trial-{trial.number:03d}"
        trial.set_user_attr("run_folder", str(run_dir.resolve()))
        record = {"number": trial.number, "study": study_name, "params": params}
        console.print(f"[bold]trial {trial.number}[/bold]: " + ", ".join(f"{k}={v}" for k, v in params.items()))

        def on_curve(step: int, recall: float) -> None:
            trial.report(recall, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"curve recall {recall:.2f} at step {step}")

        try:
            metrics = run_pipeline(trial_config, run_dir, console=console, on_curve=on_curve if pruning else None)
        except optuna.TrialPruned as e:
            write_json(RunDir(run_dir).trial, record | {"state": "pruned", "reason": str(e)})
            console.print(f"trial {trial.number} pruned: {e}")
            raise
        recall, seconds = metrics["after"]["exact_recall"], metrics["train"]["seconds"]
        value = recall - TIE_BREAK * seconds
        trial.set_user_attr("exact_recall", recall)
        trial.set_user_attr("train_seconds", seconds)
        write_json(
            RunDir(run_dir).trial,
            record | {"state": "complete", "exact_recall": recall, "train_seconds": seconds, "value": value},
        )
        return value

    done = len(study.get_trials(deepcopy=False, states=finished))
    if done < trials:
        console.print(f"study {study_name!r} in {storage}: {done} trials finished, running up to {trials - done} more")
        study.optimize(objective, n_trials=trials - done, callbacks=[MaxTrialsCallback(trials, states=finished)])
    print_ranking(study, console)
    best = write_best(study, config, out / "best.yaml")
    if best:
        console.print(f"best config: {best}   (lexitune run {best})")
    console.print(f"comparison: {write_comparison([out], out / 'compare.html')}")
    return study


def ranked(study) -> list:
    """Finished trials, best first: complete by recall then time, then pruned, then the rest."""
    from optuna.trial import TrialState

    def key(t):
        if t.state == TrialState.COMPLETE:
            return (0, -t.user_attrs.get("exact_recall", t.value or 0), t.user_attrs.get("train_seconds", 0))
        best_curve = max(t.intermediate_values.values(), default=0)
        return (1 if t.state == TrialState.PRUNED else 2, -best_curve, t.number)

    return sorted((t for t in study.get_trials(deepcopy=False) if t.state != TrialState.WAITING), key=key)


def print_ranking(study, console: Console) -> None:
    trials = ranked(study)
    names = sorted({k for t in trials for k in t.params})
    table = Table(title=f"study {study.study_name}: {len(trials)} trials, best first")
    for col in ["#", "trial", "state", *names, "exact recall", "train s", "best curve recall"]:
        table.add_column(col, justify="left" if col == "state" else "right", overflow="fold")
    for i, t in enumerate(trials, 1):
        curve = max(t.intermediate_values.values(), default=None)
        recall, seconds = t.user_attrs.get("exact_recall"), t.user_attrs.get("train_seconds")
        table.add_row(
            str(i),
            str(t.number),
            t.state.name.lower(),
            *[f"{t.params[n]:.3g}" if isinstance(t.params.get(n), float) else str(t.params.get(n, "")) for n in names],
            "" if recall is None else f"{recall:.3f}",
            "" if seconds is None else f"{seconds:.1f}",
            "" if curve is None else f"{curve:.2f}",
        )
    console.print(table)


def write_best(study, config: Config, path: Path) -> Path | None:
    """The best trial's config, ready for `lexitune run` (the sweep section dropped)."""
    from optuna.trial import TrialState

    complete = [t for t in ranked(study) if t.state == TrialState.COMPLETE]
    if not complete:
        return None
    best = complete[0]
    data = with_params(config, best.params).model_dump(mode="json", exclude={"sweep"})
    header = (
        f"# Best trial {best.number} of study {study.study_name!r}: held-out exact recall "
        f"{best.user_attrs.get('exact_recall')}, trained in {best.user_attrs.get('train_seconds')} s.\n"
        f"# Trial folder: {best.user_attrs.get('run_folder')}\n"
        f"# Swept: {json.dumps(best.params)}\n"
    )
    write_text(path, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path
