"""The whole pipeline: it only chains the stages, each of which lives in its own package.

    glossary ──generate/stage──▶ conversations ──evaluate/stage (before)──▶ train/stage ──▶ evaluate/stage (after)

`lexitune run` chains everything (the base model is loaded once and shared by every stage);
`lexitune train` stops after training. Under `accelerate launch` only the main process evaluates.

    lexitune run examples/culinary-fr/lexitune.yaml --out runs/culinary
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from lexitune.config import Config, flat_settings, save_config
from lexitune.errors import LexituneError
from lexitune.evaluate.probes.run import probes_before
from lexitune.evaluate.stage import answer_before, evaluate_stage
from lexitune.generate.stage import prepare_data
from lexitune.inference import Answerer
from lexitune.models import load_model, load_tokenizer
from lexitune.rundir import RunDir, read_json
from lexitune.stopwatch import Stopwatch
from lexitune.train.distributed import current_world
from lexitune.train.stage import train_stage


def start_run(config: Config, root: Path, resume: bool) -> RunDir:
    """Create the run folder; refuse to overwrite a run unless resuming it."""
    run = RunDir(root)
    if config.train.method == "qlora":  # before any work: 4-bit layers may not run here
        from lexitune.train.quantized import check_qlora

        check_qlora(current_world().device or "cpu")
    if not current_world().is_main:
        return run  # under `accelerate launch` the main process checks and creates the folder
    if run.root.exists() and not run.root.is_dir():
        raise LexituneError(f"--out {root}: is a file, not a folder")
    if run.config.exists():
        if not resume:
            raise LexituneError(f"{root}: already holds a run; pass --resume to continue it, or choose another --out")
        _same_run(run, config)
        return run  # its config.yaml stays the one the run was made with
    run.root.mkdir(parents=True, exist_ok=True)
    save_config(config, run.config)
    return run


# Settings that say where a run is logged, not what it computes: a resume may change them.
_RESUMABLE_CHANGES = ("tracking.",)


def _same_run(run: RunDir, config: Config) -> None:
    """Continuing a run is only continuing it with the settings it was made with: another config
    would mix its data, weights and metrics with this one's (and used to replace its config.yaml)."""
    saved = flat_settings(run.load_config().model_dump(mode="json"))
    new = flat_settings(config.model_dump(mode="json"))
    changed = [
        key
        for key in sorted(set(saved) | set(new))
        if saved.get(key) != new.get(key) and not key.startswith(_RESUMABLE_CHANGES)
    ]
    if changed:
        shown = "; ".join(f"{k}: {saved.get(k)!r} -> {new.get(k)!r}" for k in changed[:3])
        more = f" (and {len(changed) - 3} more)" if len(changed) > 3 else ""
        raise LexituneError(
            f"{run.root}: holds a run made with other settings ({shown}{more}); "
            "resume it with its own config (lexitune run RUN/config.yaml --out RUN --resume) or choose another --out"
        )


def _stopwatch(run: RunDir) -> Stopwatch:
    """Stage timings, written by the main process only: under `accelerate launch` the others stop
    after training and would leave their partial timings in the same file."""
    return Stopwatch(run.timings if current_world().is_main else None)


def train_pipeline(
    config: Config,
    run: RunDir,
    tracker,
    console: Console,
    *,
    resume: bool = False,
    on_curve=None,
    stopwatch: Stopwatch | None = None,
):
    """Generate, answer with the base model, train: what `lexitune run` and `lexitune train` share.

    Returns (terms, test_set, tokenizer, model, before, probe_before, result); the base model is loaded once."""
    from lexitune.evaluate.curve import make_curve

    stopwatch = stopwatch or _stopwatch(run)
    with stopwatch.stage("data"):
        terms, train_set, test_set = prepare_data(config, run, console)
    with stopwatch.stage("base_answers"):
        tokenizer = load_tokenizer(config.model.name)
        model = load_model(config.model.name, four_bit=config.train.method == "qlora", training=True)
        base = Answerer.base(model, tokenizer, config)  # no adapter yet: the model is the base
        before = answer_before(base, config, run, test_set)
        probe_before = probes_before(base, config, run, terms)
    curve = make_curve(config, run, tokenizer, terms, test_set, tracker=tracker, on_point=on_curve, resume=resume)
    model, result = train_stage(
        config,
        run,
        model,
        tokenizer,
        train_set,
        resume=resume,
        console=console,
        callbacks=[tracker.log_step],
        curve=curve,
        stopwatch=stopwatch,
    )
    return terms, test_set, tokenizer, model, before, probe_before, result


def run_pipeline(
    config: Config, out: Path, *, resume: bool = False, console: Console | None = None, on_curve=None
) -> dict | None:
    """Everything, once: generate, answer before, train, answer after, report.

    The run is tracked (config.tracking) and ends with report.html; `on_curve(step, recall)` is
    called at each learning-curve point (a sweep prunes trials there by raising). Under
    `accelerate launch` only the main process evaluates (the others return None)."""
    from lexitune.report import write_run_report
    from lexitune.track import tracked

    console = console or Console(stderr=True)
    run = start_run(config, out, resume)
    stopwatch = _stopwatch(run)
    with tracked(config, run) as tracker:
        terms, test_set, tokenizer, model, before, probe_before, _ = train_pipeline(
            config, run, tracker, console, resume=resume, on_curve=on_curve, stopwatch=stopwatch
        )
        if not current_world().is_main:
            return None
        with stopwatch.stage("evaluation"):
            metrics = evaluate_stage(
                config,
                run,
                model,
                tokenizer,
                terms,
                test_set,
                before,
                read_json(run.train_result),
                console,
                probe_before=probe_before,
            )
        with stopwatch.stage("report"):
            write_run_report(run)
        tracker.log_run_folder(run)
    console.print(stopwatch.line())
    console.print(f"run folder: {run.root}  (report: {run.report})")
    return metrics
