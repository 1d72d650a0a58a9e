"""What the UI's pages share: the runs folder, the UI's own folder inside it, the job queue, the
templates and the one model held for chat. One object per app, kept on `app.state.ui`: no globals.

    runs/                     the runs, as `lexitune run --out runs/NAME` writes them
    runs/.lexitune-ui/        the UI's own files
        jobs.json, logs/      the queue and each job's output
        glossaries/           uploaded and edited glossaries (an edit is a new file)
        previews/             data previews (`lexitune generate`)
        exports/              exports made from the Share page
        compare/              comparison pages
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from lexitune.config import safe_name
from lexitune.errors import LexituneError
from lexitune.rundir import RunDir
from lexitune.ui.jobs import JobQueue

HERE = Path(__file__).parent


def unique_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `name-2`, `name-3`... when taken: nothing is ever written over."""
    path = folder / name
    stem, suffix = path.stem, path.suffix
    k = 2
    while path.exists():
        path = folder / f"{stem}-{k}{suffix}"
        k += 1
    return path


@dataclass
class Chatter:
    """One finished run's model, loaded for chat; loading another replaces it (memory is one model)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    name: str | None = None
    loaded: tuple | None = None  # (model, tokenizer, config, terms)

    def get(self, run: RunDir) -> tuple:
        from lexitune.inference import load_terms, load_trained

        if self.name != str(run.root):
            self.loaded = None  # drop the old model before loading the new one
            model, tokenizer, config = load_trained(run)
            self.loaded, self.name = (model, tokenizer, config, load_terms(run)), str(run.root)
        return self.loaded


@dataclass
class UiState:
    runs: Path
    queue: JobQueue
    templates: Jinja2Templates
    chatter: Chatter = field(default_factory=Chatter)

    @property
    def home(self) -> Path:
        return self.runs / ".lexitune-ui"

    def folder(self, name: str) -> Path:
        path = self.home / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def glossary_path(self, name: str) -> Path:
        path = self.folder("glossaries") / safe_name(name, "glossary")
        if not path.is_file():
            raise LexituneError(f"{name}: no such uploaded glossary")
        return path

    def glossaries(self) -> list[str]:
        return sorted(p.name for p in self.folder("glossaries").iterdir() if p.is_file())

    def run(self, name: str) -> RunDir:
        path = self.runs / safe_name(name)
        if not (path / "config.yaml").exists():
            raise LexituneError(f"{name}: no such run in {self.runs}")
        return RunDir(path)

    def run_names(self) -> list[str]:
        if not self.runs.exists():
            return []
        found = [p for p in self.runs.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return sorted(
            (p.name for p in found if (p / "config.yaml").exists()), key=lambda n: -(self.runs / n).stat().st_mtime
        )

    def finished_runs(self) -> list[str]:
        return [n for n in self.run_names() if (self.runs / n / "metrics.json").exists()]

    def page(self, request: Request, template: str, **context):
        return self.templates.TemplateResponse(request, template, {"page": template.split(".")[0], **context})

    def choices_page(self, request: Request, template: str, choices, error: str | None, **context):
        """A page with the settings form (Data, Train): the uploaded glossaries to pick from, and
        the error of the last action or, failing that, what the settings could not read."""
        return self.page(
            request,
            template,
            choices=choices,
            files=self.glossaries(),
            error=error or choices.invalid or None,
            **context,
        )


def ui_state(request: Request) -> UiState:
    return request.app.state.ui


State = Annotated[UiState, Depends(ui_state)]
