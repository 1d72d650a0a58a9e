"""Share page: export a finished run (adapter, merged, GGUF with its quantization, Ollama) as a
queued `lexitune export` job, then download it or copy its path; preview the Hub model card that
`lexitune push` would upload, without uploading anything."""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from lexitune.errors import LexituneError
from lexitune.export import EXPORTERS
from lexitune.export.gguf_file import QUANTS
from lexitune.export.push import WHAT, check_repo
from lexitune.ui.state import State, unique_path

router = APIRouter()


@router.get("/share")
def share_page(request: Request, state: State, run: str | None = None, error: str | None = None):
    runs = state.finished_runs()
    chosen = run if run in runs else (runs[0] if runs else None)
    jobs = [j for j in reversed(state.queue.jobs) if j.kind == "export"]
    return state.page(
        request,
        "share.html",
        runs=runs,
        chosen=chosen,
        formats=list(EXPORTERS),
        quants=list(QUANTS),
        hub_formats=WHAT,
        jobs=jobs,
        error=error,
    )


@router.post("/share/export")
def export(state: State, request: Request, run: str = Form(...), format: str = Form(...), quant: str = Form("f16")):
    try:
        rundir = state.run(run)
        if format not in EXPORTERS:
            raise LexituneError(f"format {format}: choose one of {', '.join(EXPORTERS)}")
        tag = f"{rundir.root.name}-{format}" + (f"-{quant}" if format in ("gguf", "ollama") else "")
        out = unique_path(state.folder("exports"), tag)
        args = ["export", str(rundir.root), "--format", format, "--out", str(out)]
        if format in ("gguf", "ollama"):
            args += ["--quant", quant]
        job = state.queue.submit("export", args, out, f"export {tag}")
    except LexituneError as e:
        return share_page(request, state, run, str(e))
    return RedirectResponse(f"/share?run={run}#job-{job.id}", 303)


@router.get("/share/download/{job_id}")
def download(state: State, job_id: str):
    """The GGUF file itself, or the export folder as a zip (made once, next to it)."""
    job = state.queue.get(job_id)
    folder = Path(job.folder)
    if job.kind != "export" or job.state != "done" or not folder.is_dir():
        raise LexituneError(f"job {job_id}: no finished export to download")
    files = [p for p in folder.iterdir() if p.is_file()]
    if len(files) == 1:  # a GGUF export is one file
        return FileResponse(files[0], filename=files[0].name)
    archive = folder.with_name(folder.name + ".zip")
    if not archive.exists():
        tmp = shutil.make_archive(str(folder.with_name(folder.name + ".partial")), "zip", folder)
        Path(tmp).rename(archive)  # a half-written zip is never offered
    return FileResponse(archive, filename=archive.name)


@router.post("/share/card", response_class=HTMLResponse)
def card(request: Request, state: State, run: str = Form(...), repo: str = Form(...), what: str = Form("adapter")):
    """The README.md that `lexitune push RUN --repo REPO --format WHAT` would upload."""
    from lexitune.export.card import model_card

    try:
        check_repo(repo, what)
        text, error = str(model_card(state.run(run), repo, what)), None
    except LexituneError as e:
        text, error = "", str(e)
    return state.templates.TemplateResponse(request, "card.html", {"text": text, "error": error, "repo": repo})
