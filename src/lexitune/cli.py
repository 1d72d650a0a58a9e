"""The `lexitune` command: parses arguments and dispatches to the pipeline's stages.

    lexitune run examples/culinary-fr/lexitune.yaml --out runs/culinary
    lexitune --help
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from lexitune.errors import LexituneError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Teach a small language model a glossary.")
console = Console(stderr=True)

ConfigArg = Annotated[Path, typer.Argument(help="YAML config (or a run folder, to reuse its config)")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="run folder (default: runs/<name>-<timestamp>)")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="override a setting: section.key=value (repeatable)")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="continue the run in --out from its last checkpoint")]


def _config(path: Path | None, overrides: list[str] | None):
    from lexitune.config import load_config

    return load_config(path, overrides or [])


def _out(config, out: Path | None) -> Path:
    from lexitune.rundir import default_run_dir

    return out or default_run_dir(config.name)


@app.command()
def run(config: ConfigArg, out: OutOpt = None, set: SetOpt = None, resume: ResumeOpt = False) -> None:
    """Run the whole pipeline: generate, evaluate before, train, evaluate after."""
    from lexitune.pipeline import run_pipeline

    cfg = _config(config, set)
    run_pipeline(cfg, _out(cfg, out), resume=resume, console=console)


@app.command()
def generate(config: ConfigArg, out: OutOpt = None, set: SetOpt = None) -> None:
    """Load the glossary and write data/train.jsonl and data/test.jsonl."""
    from lexitune.pipeline import prepare_data, start_run

    cfg = _config(config, set)
    run_dir = start_run(cfg, _out(cfg, out), resume=True)
    prepare_data(cfg, run_dir, console)
    console.print(f"written: {run_dir.train_data} and {run_dir.test_data}")


@app.command()
def train(config: ConfigArg, out: OutOpt = None, set: SetOpt = None, resume: ResumeOpt = False) -> None:
    """Generate (if needed) and train; evaluation is left to `lexitune eval`."""
    from lexitune.evaluate.probes import probes_before
    from lexitune.models import load_model, load_tokenizer
    from lexitune.pipeline import answer_before, load_terms, prepare_data, start_run, train_stage

    cfg = _config(config, set)
    run_dir = start_run(cfg, _out(cfg, out), resume)
    _, train_set, test_set = prepare_data(cfg, run_dir, console)
    tokenizer, model = load_tokenizer(cfg.model.name), load_model(cfg.model.name)
    answer_before(model, tokenizer, cfg, run_dir, test_set)
    probes_before(model, tokenizer, cfg, run_dir, load_terms(run_dir))
    _, result = train_stage(cfg, run_dir, model, tokenizer, train_set, resume=resume, console=console)
    console.print(f"trained {result.steps} steps in {result.seconds:.0f} s ({result.tokens_per_second:.0f} tokens/s)")


@app.command(name="eval")
def evaluate(run_dir: Annotated[Path, typer.Argument(help="a run folder")], set: SetOpt = None) -> None:
    """Evaluate a trained run on its held-out questions, before vs after."""
    from lexitune.evaluate.probes import probes_before
    from lexitune.generate import read_conversations
    from lexitune.pipeline import answer_before, evaluate_stage, load_terms, load_trained
    from lexitune.rundir import RunDir, read_json

    run_path = RunDir(run_dir)
    cfg = _config(run_path.config if run_path.config.exists() else run_dir, set)
    model, tokenizer, _ = load_trained(run_path, cfg)
    test_set = read_conversations(run_path.test_data)
    before = None
    if cfg.eval.before:
        # The base model's answers: the same weights with the adapter switched off.
        with model.disable_adapter() if hasattr(model, "disable_adapter") else contextlib.nullcontext():
            before = answer_before(model, tokenizer, cfg, run_path, test_set)
            probes_before(model, tokenizer, cfg, run_path, load_terms(run_path))
    train_result = read_json(run_path.train_result) if run_path.train_result.exists() else None
    evaluate_stage(cfg, run_path, model, tokenizer, load_terms(run_path), test_set, before, train_result, console)


@app.command()
def chat(
    run_dir: Annotated[Path, typer.Argument(help="a run folder")],
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="ask one question and exit")] = None,
    base: Annotated[bool, typer.Option("--base", help="ask the untuned base model instead")] = False,
    max_new_tokens: Annotated[int, typer.Option(help="answer length limit")] = 256,
) -> None:
    """Chat with a tuned model in the terminal (streamed)."""
    from lexitune.chat import chat as chat_loop

    chat_loop(str(run_dir), prompt=prompt, base=base, max_new_tokens=max_new_tokens)


def main() -> None:
    """Entry point: user errors become one line and exit code 2 unless --debug is given."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    else:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        logging.getLogger("transformers").setLevel(logging.ERROR)
    try:
        app(standalone_mode=False)
    except LexituneError as e:
        if debug:
            raise
        console.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        console.print("interrupted")
        sys.exit(130)
    except Exception as e:  # click usage errors come through here in non-standalone mode
        import click

        if isinstance(e, click.UsageError):
            e.show()
            sys.exit(2)
        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        raise


if __name__ == "__main__":
    main()
