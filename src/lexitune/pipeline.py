"""The whole pipeline: it only chains the stages, each of which lives in its own package.

    glossary ──generate/stage──▶ conversations ──evaluate/stage (before)──▶ train/stage ──▶ evaluate/stage (after)

`lexitune run` chains everything (the base model is loaded once and shared by every stage);
`lexitune train` stops after training. Under `accelerate launch` only the main process evaluates.

    lexitune run examples/culinary-fr/lexitune.yaml --out runs/culinary
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from lexitune.config import Config, save_config
from lexitune.errors import LexituneError
from lexitune.evaluate.probes.run import probes_before
from lexitune.evaluate.stage import answer_before, evaluate_stage
from lexitune.generate.stage import prepare_data
from lexitune.inference import Answerer
from lexitune.models import load_model, load_tokenizer
from lexitune.rundir import RunDir, read_json
from lexitune.train.distributed import current_world
from lexitune.train.stage import train_stage


def start_run(config: Config, root: Path, resume: bool) -> RunDir:
    """Create the run folder; refuse to overwrite a run unless resuming it."""
    run = RunDir(root)
    if not current_world().is_main:
        return run  # under `accelerate launch` the main process checks and creates the folder
    if run.config.exists() and not resume:
        raise LexituneError(f"{root}: already holds a run; pass --resume to continue it, or choose another --out")
    run.root.mkdir(parents=True, exist_ok=True)
    save_config(config, run.config)
    return run


def train_pipeline(config: Config, run: RunDir, tracker, console: Console, *, resume: bool = False, on_curve=None):
    """Generate, answer with the base model, train: what `lexitune run` and `lexitune train` share.

    Returns (terms, test_set, tokenizer, model, before, probe_before, result); the base model is loaded once."""
    from lexitune.evaluate.curve import make_curve

    terms, train_set, test_set = prepare_data(config, run, console)
    tokenizer = load_tokenizer(config.model.name)
    model = load_model(config.model.name)
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
    with tracked(config, run) as tracker:
        terms, test_set, tokenizer, model, before, probe_before, _ = train_pipeline(
            config, run, tracker, console, resume=resume, on_curve=on_curve
        )
        if not current_world().is_main:
            return None
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
        write_run_report(run)
        tracker.log_run_folder(run)
    console.print(f"run folder: {run.root}  (report: {run.report})")
    return metrics
