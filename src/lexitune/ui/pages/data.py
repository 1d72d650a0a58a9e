"""Data page: choose how conversations are written (offline templates or an OpenAI-compatible
LLM), then preview them, per term and style, with the train / held-out split shown.

The preview is `lexitune generate` in a folder of its own (a queued job: an LLM can take
minutes); a run started from the Train page with the same choices writes the same data (LLM
replies come from the shared reply cache the second time)."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from lexitune.errors import LexituneError
from lexitune.generate import read_conversations
from lexitune.generate.split import family
from lexitune.rundir import RunDir
from lexitune.ui.settings import Choices, shown
from lexitune.ui.state import State, safe_name, unique_path

router = APIRouter()


def conversations_by_term(folder) -> dict[str, list[dict]]:
    run = RunDir(folder)
    rows: dict[str, list[dict]] = defaultdict(list)
    for path in (run.train_data, run.test_data):
        if path.exists():
            for c in read_conversations(path):
                held_out = "train" if c.split == "train" else f"held out ({family(c.style)})"
                rows[c.term].append({"style": c.style, "split": held_out, "question": c.question, "answer": c.answer})
    return dict(rows)


@router.get("/data")
def data_page(request: Request, state: State, preview: str | None = None, error: str | None = None):
    choices = Choices.of(request.query_params)
    job = state.queue.get(preview) if preview else None
    table = conversations_by_term(job.folder) if job is not None and job.state == "done" else {}
    return state.choices_page(
        request, "data.html", choices, error, job=job, table=table, command=shown(job.args) if job else None
    )


@router.post("/data/preview")
async def preview(request: Request, state: State):
    choices = Choices.of(await request.form())
    try:
        glossary = state.glossary_path(choices.file)
        out = unique_path(state.folder("previews"), safe_name(glossary.stem, "preview"))
        args = choices.cli_args("generate", glossary, out, data_only=True)
        job = state.queue.submit("generate", args, out, f"data preview of {choices.file}")
    except LexituneError as e:
        return data_page(request, state, None, str(e))
    return RedirectResponse(f"/data?{choices.query()}&preview={job.id}", 303)
