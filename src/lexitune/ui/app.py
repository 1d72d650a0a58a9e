"""The web app: FastAPI, pages rendered on the server (Jinja2), htmx for the parts that update.

    lexitune ui                       # http://127.0.0.1:7860, runs in ./runs
    lexitune ui --runs runs --port 8000
    lexitune ui --host 0.0.0.0 --token SECRET   # any other address needs a token

Every page calls the library (glossary loading, config, reports, inference, push's card); what
takes minutes (generate, run, export) is the CLI itself in a queued child process (ui/jobs.py).
Nothing is fetched from the network: htmx and the stylesheet are files of this package.
"""

from __future__ import annotations

import contextlib
import hmac
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from lexitune.errors import LexituneError
from lexitune.ui.jobs import JobQueue
from lexitune.ui.state import HERE, UiState

COOKIE = "lexitune_ui_token"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def require_token(host: str, token: str | None) -> None:
    """Anyone who can reach the page can train, export and read the glossary: off this machine,
    only with a token."""
    if host not in LOCAL_HOSTS and not token:
        raise LexituneError(f"--host {host}: serving beyond this machine needs --token (or LEXITUNE_UI_TOKEN)")


def create_app(runs: Path | str = "runs", token: str | None = None) -> FastAPI:
    runs = Path(runs).resolve()
    runs.mkdir(parents=True, exist_ok=True)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["fig"] = lambda v: "–" if v is None else f"{v:.2f}"
    state = UiState(runs=runs, queue=None, templates=templates)  # type: ignore[arg-type]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        state.queue = JobQueue(state.home)
        yield
        state.queue.close()  # a running job stops at its last checkpoint; the next start shows it

    app = FastAPI(title="lexitune ui", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ui = state
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    if token:

        @app.middleware("http")
        async def check_token(request: Request, call_next):
            given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
            bearer = request.headers.get("authorization", "")
            if bearer.lower().startswith("bearer "):
                given = bearer[7:]
            if not hmac.compare_digest(given.encode(), token.encode()):
                return PlainTextResponse(
                    "lexitune ui: open the address with ?token=... (see `lexitune ui --help`)", 401
                )
            response = await call_next(request)
            if request.query_params.get("token"):  # remembered, so links need not carry it
                response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response

    @app.exception_handler(LexituneError)
    async def user_error(request: Request, error: LexituneError):
        # Errors inside a page are shown in that page; this is for the rest (a bad link, say).
        return HTMLResponse(
            templates.get_template("error.html").render(request=request, page="error", error=str(error)), 400
        )

    @app.get("/")
    def home():
        return RedirectResponse("/glossary", 303)

    from lexitune.ui.pages import chat, data, glossary, share, train
    from lexitune.ui.pages import runs as runs_page

    for module in (glossary, data, train, runs_page, chat, share):
        app.include_router(module.router)
    return app
