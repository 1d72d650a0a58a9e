"""Runs page: every run in the runs folder (with its MLflow run when it was tracked), its headline
figures, its report, and a comparison of any two or more (the report's comparison page)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse

from lexitune.errors import LexituneError
from lexitune.report import write_comparison, write_run_report
from lexitune.rundir import read_json
from lexitune.ui.progress import run_progress
from lexitune.ui.state import State, UiState, safe_name

router = APIRouter()
HEADLINE = ("exact_recall", "reverse_recall", "retention", "abstention")


def run_row(state: UiState, name: str) -> dict:
    run = state.run(name)
    try:
        config = run.load_config()
    except LexituneError as e:  # one unreadable folder must not hide the others
        return {
            "name": name,
            "model": "",
            "recipe": "",
            "stage": f"unreadable: {e}",
            "finished": False,
            "figures": dict.fromkeys(HEADLINE),
            "mlflow": None,
        }
    progress = run_progress(run.root)
    after = progress.metrics.get("after") or {}
    tracking = read_json(run.tracking) if run.tracking.exists() else {}
    return {
        "name": name,
        "model": config.model.name,
        "recipe": config.recipe,
        "stage": progress.stage,
        "finished": progress.finished,
        "figures": {k: after.get(k) for k in HEADLINE},
        "mlflow": {"uri": config.tracking.uri, **tracking} if tracking else None,
    }


@router.get("/runs")
def runs_page(request: Request, state: State, error: str | None = None):
    rows = [run_row(state, name) for name in state.run_names()]
    return state.page(request, "runs.html", rows=rows, headline=HEADLINE, error=error)


@router.get("/runs/{name}/report")
def report(state: State, name: str):
    run = state.run(name)
    if not run.metrics.exists():
        raise LexituneError(f"{name}: not finished yet, so no report")
    if not run.report.exists():
        write_run_report(run)
    return FileResponse(run.report, media_type="text/html")


@router.post("/runs/compare")
async def compare(request: Request, state: State):
    names = [safe_name(n) for n in (await request.form()).getlist("run")]
    if len(names) < 2:
        return runs_page(request, state, "tick two or more runs to compare them")
    paths = [state.run(n).root for n in names]
    key = hashlib.sha256("\0".join(names).encode()).hexdigest()[:12]
    out = state.folder("compare") / f"compare-{key}.html"
    write_comparison(paths, out)
    return RedirectResponse(f"/compare/{out.name}", 303)


@router.get("/compare/{file}")
def comparison(state: State, file: str):
    path = state.folder("compare") / safe_name(file)
    if not path.is_file():
        raise LexituneError(f"{file}: no such comparison")
    return FileResponse(path, media_type="text/html")
