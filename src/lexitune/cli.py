"""The `lexitune` command: parses arguments and hands each verb to the module that does its work.

lexitune run my-glossary.csv                 # the default recipe, no config file needed
lexitune run examples/culinary-fr/lexitune.yaml --out runs/culinary
lexitune --help
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from lexitune.allocator import preload_and_reexec
from lexitune.errors import LexituneError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Teach a small language model a glossary.")
console = Console(stderr=True)

# Each verb and the module that does its work: kept in sync with the commands by a test.
VERBS: dict[str, str] = {
    "run": "lexitune.pipeline",
    "generate": "lexitune.generate.stage",
    "train": "lexitune.pipeline",
    "eval": "lexitune.evaluate.stage",
    "chat": "lexitune.chat",
    "sweep": "lexitune.sweep",
    "report": "lexitune.report",
    "serve": "lexitune.serve",
    "export": "lexitune.export",
    "push": "lexitune.export.push",
    "recipes": "lexitune.recipes",
    "ui": "lexitune.ui",
}

ConfigArg = Annotated[
    Path, typer.Argument(help="YAML config, a glossary file (the default recipe), or a run folder (its config)")
]
LangOpt = Annotated[
    str | None, typer.Option("--lang", help="glossary language (fr, en) when CONFIG is a glossary (default: detected)")
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="run folder (default: runs/<name>-<timestamp>)")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", help="override a setting: section.key=value (repeatable)")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="continue the run in --out from its last checkpoint")]


def _config(path: Path | None, overrides: list[str] | None, lang: str | None = None):
    from lexitune.config import config_for_glossary, is_glossary_file, load_config

    if path is not None and is_glossary_file(path):
        return config_for_glossary(path, overrides or [], lang)
    if lang is not None:
        raise LexituneError(f"--lang {lang}: only for a glossary file; in a config, set generate.language")
    return load_config(path, overrides or [])


def _out(config, out: Path | None) -> Path:
    from lexitune.rundir import default_run_dir

    return out or default_run_dir(config.name)


@app.command()
def run(
    config: ConfigArg, out: OutOpt = None, set: SetOpt = None, resume: ResumeOpt = False, lang: LangOpt = None
) -> None:
    """Run the whole pipeline: generate, evaluate before, train, evaluate after."""
    from lexitune.pipeline import run_pipeline

    cfg = _config(config, set, lang)
    run_pipeline(cfg, _out(cfg, out), resume=resume, console=console)


@app.command()
def generate(config: ConfigArg, out: OutOpt = None, set: SetOpt = None, lang: LangOpt = None) -> None:
    """Load the glossary and write data/train.jsonl and data/test.jsonl."""
    from lexitune.generate.stage import prepare_data
    from lexitune.pipeline import start_run

    cfg = _config(config, set, lang)
    run_dir = start_run(cfg, _out(cfg, out), resume=True)
    prepare_data(cfg, run_dir, console)
    console.print(f"written: {run_dir.train_data} and {run_dir.test_data}")


@app.command()
def train(
    config: ConfigArg, out: OutOpt = None, set: SetOpt = None, resume: ResumeOpt = False, lang: LangOpt = None
) -> None:
    """Generate (if needed) and train; evaluation is left to `lexitune eval`."""
    from lexitune.pipeline import start_run, train_pipeline
    from lexitune.track import tracked

    cfg = _config(config, set, lang)
    run_dir = start_run(cfg, _out(cfg, out), resume)
    with tracked(cfg, run_dir) as tracker:
        result = train_pipeline(cfg, run_dir, tracker, console, resume=resume)[-1]
        tracker.log_run_folder(run_dir)
    console.print(f"trained {result.steps} steps in {result.seconds:.0f} s ({result.tokens_per_second:.0f} tokens/s)")


@app.command(name="eval")
def evaluate(run_dir: Annotated[Path, typer.Argument(help="a run folder")], set: SetOpt = None) -> None:
    """Evaluate a trained run on its held-out questions, before vs after."""
    from lexitune.evaluate.stage import evaluate_run
    from lexitune.report import write_run_report
    from lexitune.rundir import RunDir
    from lexitune.track import tracked

    run_path = RunDir(run_dir)
    cfg = _config(run_path.config if run_path.config.exists() else run_dir, set)
    with tracked(cfg, run_path) as tracker:
        evaluate_run(cfg, run_path, console)
        console.print(f"report: {write_run_report(run_path)}")
        tracker.log_run_folder(run_path)


@app.command()
def chat(
    run_dir: Annotated[Path, typer.Argument(help="a run folder")],
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="ask one question and exit")] = None,
    base: Annotated[bool, typer.Option("--base", help="ask the untuned base model instead")] = False,
    max_new_tokens: Annotated[
        int | None, typer.Option(help="answer length limit (default: the run's eval.max_new_tokens, as evaluated)")
    ] = None,
) -> None:
    """Chat with a tuned model in the terminal (streamed)."""
    from lexitune.chat import chat as chat_loop

    chat_loop(str(run_dir), prompt=prompt, base=base, max_new_tokens=max_new_tokens)


@app.command()
def sweep(
    config: ConfigArg,
    trials: Annotated[
        int | None, typer.Option("--trials", help="finished trials wanted in the study (default: the grid's size)")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="sweep folder (default: runs/<name>-sweep)")] = None,
    storage: Annotated[
        str | None, typer.Option("--storage", help="Optuna storage URL (default: sqlite:///<sweep folder>/study.db)")
    ] = None,
    study: Annotated[str | None, typer.Option("--study", help="study name (default: the config's name)")] = None,
    set: SetOpt = None,
) -> None:
    """Search hyper-parameters with Optuna over the config's sweep.space or sweep.grid; resumable."""
    from lexitune.sweep import run_sweep

    cfg = _config(config, set)
    run_sweep(
        cfg,
        trials=trials,
        out=out or Path("runs") / f"{cfg.name}-sweep",
        storage=storage,
        study_name=study,
        console=console,
    )


@app.command()
def report(
    paths: Annotated[list[Path], typer.Argument(help="run folders, or a sweep folder (its trials)")],
    out: Annotated[
        Path | None, typer.Option("--out", help="comparison page (default: <sweep>/compare.html or ./compare.html)")
    ] = None,
) -> None:
    """Write HTML reports: one run's report.html, or a comparison page across runs or trials."""
    from lexitune.report import write_comparison, write_run_report
    from lexitune.rundir import RunDir

    for path in paths:
        if not path.exists():
            raise LexituneError(f"{path}: no such run or sweep folder")
    if len(paths) == 1 and (paths[0] / "config.yaml").exists() and out is None:
        console.print(f"report: {write_run_report(RunDir(paths[0]))}")
        return
    target = out or (paths[0] / "compare.html" if len(paths) == 1 else Path("compare.html"))
    console.print(f"comparison: {write_comparison(paths, target)}")


@app.command()
def serve(
    adapter: Annotated[
        list[str] | None, typer.Option("--adapter", help="NAME=RUN_DIR (repeatable); all on one base model")
    ] = None,
    runs: Annotated[
        Path | None, typer.Option(help="serve every finished run under this folder, by folder name")
    ] = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    api_key_env: Annotated[str | None, typer.Option(help="environment variable holding the bearer API key")] = None,
    admin_key_env: Annotated[
        str | None, typer.Option(help="environment variable holding the key of the adapter load/unload API")
    ] = None,
    max_adapters: Annotated[
        int | None, typer.Option(help="adapters held in memory at once (least recently used unloaded)")
    ] = None,
) -> None:
    """Serve adapters behind an OpenAI-compatible API (/v1/models, /v1/chat/completions)."""
    import uvicorn

    from lexitune.serve import AdapterRegistry, create_app
    from lexitune.serve.guard import uvicorn_config
    from lexitune.serve.registry import finished_runs

    pairs: dict[str, str | Path] = {}
    if runs is not None:
        if not runs.is_dir():
            raise LexituneError(f"--runs {runs}: not a folder")
        pairs.update(finished_runs(runs))
        if not pairs and not adapter:
            raise LexituneError(f"--runs {runs}: no finished run (adapter/ and metrics.json) under it")
    for item in adapter or []:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise LexituneError(f"--adapter {item}: expected NAME=RUN_DIR")
        if name in pairs:
            raise LexituneError(f"--adapter {name}: given twice")
        pairs[name] = path
    key, admin = _env_key(api_key_env, "--api-key-env"), _env_key(admin_key_env, "--admin-key-env")
    registry = AdapterRegistry.from_runs(pairs, max_loaded=max_adapters, runs_root=runs)
    console.print(
        f"serving {', '.join(registry.names)} on http://{host}:{port}/v1" + (" (API key required)" if key else "")
    )
    uvicorn.Server(uvicorn_config(create_app(registry, api_key=key, admin_key=admin), host, port)).run()


@app.command()
def ui(
    runs: Annotated[
        Path, typer.Option(help="the runs folder: runs started here go in it, and every run in it is listed")
    ] = Path("runs"),
    host: Annotated[
        str, typer.Option(help="address to listen on (beyond this machine only with a token)")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 7860,
    token_env: Annotated[
        str, typer.Option(help="environment variable holding the access token (needed for any --host but this machine)")
    ] = "LEXITUNE_UI_TOKEN",
) -> None:
    """A local web app: glossary, data, training with live progress, runs, chat and exports."""
    import uvicorn

    from lexitune.serve.guard import uvicorn_config
    from lexitune.ui import create_app, require_token

    token = os.environ.get(token_env) or None
    require_token(host, token)
    console.print(
        f"lexitune ui on http://{host}:{port}/ (runs in {runs.resolve()})" + (" (token required)" if token else "")
    )
    uvicorn.Server(uvicorn_config(create_app(runs, token=token), host, port)).run()


def _env_key(variable: str | None, option: str) -> str | None:
    if not variable:
        return None
    value = os.environ.get(variable)
    if not value:
        raise LexituneError(f"{option} {variable}: that environment variable is empty or not set")
    return value


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="a run folder")],
    format: Annotated[str, typer.Option("--format", help="adapter | merged | gguf | ollama")] = "adapter",
    out: Annotated[Path, typer.Option("--out", help="folder to write (must be new or empty)")] = Path("export"),
    quant: Annotated[str | None, typer.Option(help="gguf/ollama: f16 | q8_0 | q4_0 (default f16; ollama q8_0)")] = None,
) -> None:
    """Export a run: the adapter, merged safetensors, a GGUF file, or an Ollama folder."""
    from lexitune.export import export_run
    from lexitune.export.ollama import create_command
    from lexitune.rundir import RunDir

    written = export_run(run_dir, format, out, quant=quant)
    console.print(f"written: {written}")
    config = RunDir(run_dir).load_config()
    if format == "adapter":
        from lexitune.export.compat import adapter_notes

        for note in adapter_notes(out):  # vLLM and SGLang, for users who outgrow one machine
            console.print(f"note: {note}")
    if format != "adapter" and config.model.route == "glossary":
        console.print(
            "note: the run routes questions that name nothing of the glossary to the base model "
            "(model.route: glossary); exported weights cannot switch their adapter off and answer every question "
            "with it. `lexitune serve` routes."
        )
    if format != "adapter" and config.model.guard_declines:
        console.print(
            "note: the run replaces declines to glossary terms (model.guard_declines); exported weights "
            "answer greedily as trained. `lexitune serve` guards."
        )
    if format == "ollama":
        print(create_command(written, config.name))


@app.command()
def push(
    run_dir: Annotated[Path, typer.Argument(help="a run folder")],
    repo: Annotated[str, typer.Option("--repo", help="Hub repository, owner/name")],
    private: Annotated[bool, typer.Option("--private", help="create the repository as private")] = False,
    what: Annotated[str, typer.Option("--format", "--what", help="adapter | merged | gguf")] = "adapter",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only write the folder that would be uploaded")] = False,
    include_data: Annotated[bool, typer.Option("--include-data", help="also publish the glossary")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="where to write the folder (default: a temporary one)")
    ] = None,
    quant: Annotated[str | None, typer.Option(help="gguf: f16 | q8_0 | q4_0 (default f16, as export)")] = None,
    endpoint: Annotated[str | None, typer.Option(help="Hub address (default: HF_ENDPOINT or huggingface.co)")] = None,
) -> None:
    """Upload a run to the Hugging Face Hub with a model card (token from HF_TOKEN)."""
    import tempfile

    from lexitune.export.push import build_repo_folder
    from lexitune.export.push import push as push_run
    from lexitune.rundir import RunDir

    run_path = RunDir(run_dir)
    if dry_run:
        folder = out or Path(f"{run_path.root.name}-{what}-repo")
        build_repo_folder(run_path, repo, what, folder, include_data=include_data, quant=quant)
        console.print(f"dry run: the repository {repo} would hold {folder}/:")
        for item in sorted(folder.rglob("*")):
            if item.is_file():
                print(f"  {item.relative_to(folder)}  ({item.stat().st_size} bytes)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = out or Path(tmp) / "repo"
        url = push_run(
            run_path,
            repo,
            what,
            private=private,
            include_data=include_data,
            folder=folder,
            endpoint=endpoint,
            quant=quant,
        )
    console.print(f"pushed: {url}")


@app.command()
def recipes() -> None:
    """List the shipped recipes, what each sets, and the figures the quality bench measured."""
    from lexitune.recipes import load_recipe, measured, shipped

    figures = measured()
    for name in shipped():
        recipe = load_recipe(name)
        print(f"{name} (version {recipe.version}){'  [default]' if name == 'robust' else ''}")
        print(f"  {recipe.description}")
        for row in figures.get(name, []):
            print(f"  measured: {row}")
        if not figures.get(name):
            print("  measured: not yet (python bench/quality.py)")


def main() -> None:
    """The command line: user errors become one line and exit code 2 unless --debug is given."""
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    else:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        logging.getLogger("transformers").setLevel(logging.ERROR)
        # bitsandbytes (installed for QLoRA, imported by peft) warns at import that an optional
        # kernel package, which would be fetched from the Hub, is missing: nothing a user must act on.
        logging.getLogger("bitsandbytes").setLevel(logging.ERROR)
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
    except Exception as e:
        if (exit_code := _usage_error(e)) is not None:  # unknown option, missing argument...
            sys.exit(exit_code)
        if debug or not isinstance(e, OSError):
            raise
        # A full disk, a path under a file, a folder without write permission: the system's own
        # message names the file, and a traceback would bury it.
        console.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True)
        sys.exit(2)


def _usage_error(error: Exception) -> int | None:
    """Show a command-line usage error as click does (usage line, one message) and give its exit
    code; None for anything else. typer >= 0.22 raises its vendored copy of click's exceptions."""
    import click

    classes: list[type] = [click.ClickException]
    try:
        from typer._click import exceptions as vendored

        classes.append(vendored.ClickException)
    except ImportError:
        pass
    if isinstance(error, tuple(classes)):
        error.show()  # type: ignore[attr-defined]
        return int(getattr(error, "exit_code", 2))
    return None


def entry() -> None:
    """The program `lexitune` (and `python -m lexitune.cli`): main() on mimalloc.

    Apart from main() so that a caller running the command line in its own process (the tests)
    is never re-executed."""
    preload_and_reexec()  # first: the allocator must be in place before anything allocates
    main()


if __name__ == "__main__":
    entry()
