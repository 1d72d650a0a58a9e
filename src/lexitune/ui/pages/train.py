"""Train page: recipe, base model, language and the settings that matter; start a run; follow the
queue and each job's live progress (stage, step, ETA, tokens/s, loss and recall curves); cancel
and resume."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from lexitune.errors import LexituneError
from lexitune.recipes import load_recipe, shipped
from lexitune.ui.progress import run_progress, svg_curve
from lexitune.ui.settings import Choices, shown
from lexitune.ui.state import State, safe_name

router = APIRouter()


@router.get("/train")
def train_page(request: Request, state: State, error: str | None = None):
    choices = Choices.of(request.query_params)
    recipes = [(name, load_recipe(name).description) for name in shipped()]
    jobs = list(reversed(state.queue.jobs))
    return state.choices_page(request, "train.html", choices, error, recipes=recipes, jobs=jobs)


@router.post("/train/start")
async def start(request: Request, state: State):
    choices = Choices.of(await request.form())
    try:
        glossary = state.glossary_path(choices.file)
        name = safe_name(choices.name or glossary.stem, "run")
        out = state.runs / name
        if out.exists():  # a finished run is never overwritten
            raise LexituneError(f"{name}: a run of that name exists in {state.runs}; choose another name")
        args = choices.cli_args("run", glossary, out)
        job = state.queue.submit("run", args, out, f"run {name}")
    except LexituneError as e:
        return train_page(request, state, str(e))
    return RedirectResponse(f"/train?{choices.query()}#job-{job.id}", 303)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_fragment(request: Request, state: State, job_id: str):
    """One job's card; it asks for itself again every second until the job has ended."""
    job = state.queue.get(job_id)
    progress = run_progress(job.folder) if job.kind == "run" else None
    curves = (
        (svg_curve(progress.loss, label="training loss"), svg_curve(progress.recall, label="held-out recall"))
        if progress
        else None
    )
    return state.templates.TemplateResponse(
        request,
        "job.html",
        {
            "job": job,
            "progress": progress,
            "curves": curves,
            "log": state.queue.log_tail(job),
            "command": shown(job.args),
            "run_name": job.folder.rsplit("/", 1)[-1] if job.kind == "run" else None,
        },
    )


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, state: State, job_id: str):
    state.queue.cancel(job_id)
    return job_fragment(request, state, job_id)


@router.post("/jobs/{job_id}/resume")
def resume(state: State, job_id: str):
    job = state.queue.resume(job_id)
    return RedirectResponse(f"/train#job-{job.id}", 303)
