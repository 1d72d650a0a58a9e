"""Glossary page: upload a file in any supported format, see its terms, edit a row (saved as a new
file, never over the original)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse

from lexitune.errors import LexituneError
from lexitune.glossary import LOADERS, load_glossary
from lexitune.ui.state import State, UiState, safe_name, unique_path

router = APIRouter()
MAX_UPLOAD = 64 * 2**20  # a glossary, not a dataset dump


def read_terms(state: UiState, name: str):
    return load_glossary(state.glossary_path(name), duplicates="senses")


@router.get("/glossary")
def glossary_page(request: Request, state: State, file: str | None = None, error: str | None = None):
    terms, problem = [], error
    if file and not problem:
        try:
            terms = read_terms(state, file)
        except LexituneError as e:
            problem = str(e)
    return state.page(
        request,
        "glossary.html",
        file=file,
        terms=terms,
        error=problem,
        files=state.glossaries(),
        formats=sorted(LOADERS),
    )


@router.post("/glossary/upload")
async def upload(request: Request, state: State, file: UploadFile):
    name = safe_name(file.filename or "glossary", "glossary")
    if name.rsplit(".", 1)[-1].lower() not in LOADERS:
        error = f"{file.filename}: not a glossary format lexitune reads (expected one of: {', '.join(sorted(LOADERS))})"
        return glossary_page(request, state, None, error)
    body = await file.read(MAX_UPLOAD + 1)
    if len(body) > MAX_UPLOAD:
        return glossary_page(request, state, None, f"{file.filename}: larger than {MAX_UPLOAD // 2**20} MB")
    path = unique_path(state.folder("glossaries"), name)
    path.write_bytes(body)
    try:
        load_glossary(path, duplicates="senses")
    except LexituneError as e:
        path.unlink()  # our copy only; the error names the file and line as the CLI would
        return glossary_page(request, state, None, str(e).replace(str(path), file.filename or name))
    return RedirectResponse(f"/glossary?{urlencode({'file': path.name})}", 303)


@router.post("/glossary/edit")
def edit(
    state: State,
    file: str = Form(...),
    index: int = Form(...),
    term: str = Form(...),
    definition: str = Form(...),
    aliases: str = Form(""),
):
    """The whole glossary with one row changed, written as a new JSON file next to the original."""
    terms = read_terms(state, file)
    if not 0 <= index < len(terms):
        raise LexituneError(f"{file}: no row {index + 1}")
    if not term.strip() or not definition.strip():
        error = f"row {index + 1}: a term and a definition are needed"
        return RedirectResponse(f"/glossary?{urlencode({'file': file, 'error': error})}", 303)
    terms[index] = terms[index].model_copy(
        update={
            "term": term.strip(),
            "definition": definition.strip(),
            "aliases": [a.strip() for a in aliases.split(",") if a.strip()],
        }
    )
    stem = file.rsplit(".", 1)[0]
    path = unique_path(state.folder("glossaries"), f"{stem}-edited.json")
    rows = [t.model_dump(exclude={"source", "extra"}, exclude_defaults=True) for t in terms]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return RedirectResponse(f"/glossary?{urlencode({'file': path.name})}", 303)
