"""Chat page: the base model and the tuned model (routing on or off) answer the same question side
by side, streamed; "try the traps" asks a general question, an invented acronym and the reverse
question, so the user sees what the model kept and what it declines.

Answers come from the same `Answerer` as `lexitune chat` and evaluation: what is read here is
what the metrics measured."""

from __future__ import annotations

import dataclasses
import queue
import threading

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from lexitune.errors import LexituneError
from lexitune.generate.invented import abstention_pool
from lexitune.generate.templates import REVERSE_QUESTIONS
from lexitune.ui.state import State

router = APIRouter()
GENERAL = {"fr": "Quelle est la capitale de la France ?", "en": "What is the capital of France?"}
UNKNOWN = {"fr": "Que veut dire {term} ?", "en": "What does {term} stand for?"}
MAX_QUESTION = 4000


@router.get("/chat")
def chat_page(request: Request, state: State, run: str | None = None):
    runs = state.finished_runs()
    chosen = run if run in runs else (runs[0] if runs else None)
    routing = state.run(chosen).load_config().model.route == "glossary" if chosen else False
    return state.page(request, "chat.html", runs=runs, chosen=chosen, routing=routing)


@router.get("/chat/traps")
def traps(state: State, run: str) -> dict:
    """Three questions that show a glossary model's typical failures, in the run's language."""
    rundir = state.run(run)
    config = rundir.load_config()
    from lexitune.inference import load_terms

    terms = load_terms(rundir)
    lang = config.generate.language
    invented = abstention_pool(terms, 1, config.seed)[0]
    reverse = next(iter(REVERSE_QUESTIONS[lang].values())).format(definition=terms[0].definition)
    return {
        "questions": [
            {"kind": "a general question", "question": GENERAL[lang]},
            {"kind": "an invented acronym", "question": UNKNOWN[lang].format(term=invented)},
            {"kind": "the reverse question", "question": reverse},
        ]
    }


@router.get("/chat/stream")
def stream(state: State, run: str, q: str, side: str = "tuned", routing: str = "on"):
    """One answer as plain text, piece by piece as the model writes it."""
    if side not in ("base", "tuned"):
        raise LexituneError(f"side {side}: base or tuned")
    if not q.strip() or len(q) > MAX_QUESTION:
        raise LexituneError(f"a question of 1 to {MAX_QUESTION} characters, please")
    rundir = state.run(run)
    if not rundir.metrics.exists():
        raise LexituneError(f"{run}: not finished yet")
    pieces: queue.Queue = queue.Queue()

    def answer() -> None:
        from lexitune.inference import Answerer, load_base_for

        try:
            with state.chatter.lock:  # one model, one question at a time on this machine
                model, tokenizer, config, terms = state.chatter.get(rundir)
                if side == "base":
                    answerer = Answerer.base(load_base_for(model, config), tokenizer, config)
                else:
                    answerer = Answerer.tuned(model, tokenizer, config, terms)
                    answerer = dataclasses.replace(
                        answerer,
                        route="glossary" if routing == "on" else "always",
                        guard=config.model.guard_declines and routing == "on",
                    )
                answerer.stream([{"role": "user", "content": q}], pieces.put)
        except Exception as e:  # shown in the answer's box rather than lost in a log
            pieces.put(f"\n[error: {e}]")
        finally:
            pieces.put(None)

    threading.Thread(target=answer, daemon=True).start()

    def chunks():
        while (piece := pieces.get()) is not None:
            yield piece

    return StreamingResponse(chunks(), media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store"})
