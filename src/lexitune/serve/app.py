"""The FastAPI app: OpenAI's `/v1/models` and `/v1/chat/completions` (streamed or not) and `/health`.

Errors use OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`: 400 for a request we
cannot serve, 401 for a missing or wrong key, 404 for an unknown model or path, 422 for a field of
the wrong type or range. A `model` value is only ever looked up among the names given at start-up.

    lexitune serve --adapter culinary=runs/culinary --port 8000
    curl -s localhost:8000/v1/chat/completions -H 'content-type: application/json' \
      -d '{"model": "culinary", "messages": [{"role": "user", "content": "Que veut dire TEC ?"}]}'
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from lexitune.errors import LexituneError
from lexitune.serve import protocol
from lexitune.serve.guard import Guard
from lexitune.serve.protocol import ChatRequest, LoadAdapter, UnloadAdapter
from lexitune.serve.registry import DEFAULT_MAX_TOKENS, AdapterRegistry, Piece, Sampling


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        param: str | None = None,
        code: str | None = None,
        type_: str = "invalid_request_error",
    ):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type_


def create_app(
    registry: AdapterRegistry, api_key: str | None = None, max_tokens_limit: int = 2048, admin_key: str | None = None
) -> FastAPI:
    app = FastAPI(title="lexitune", docs_url=None, redoc_url=None)
    app.state.registry = registry
    # The key and the body limits are checked before any route parses the request (guard.py);
    # with a key set that covers /openapi.json too: only /health is open.
    app.add_middleware(Guard, api_key=api_key, admin_key=admin_key)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(protocol.error(exc.message, exc.type, exc.param, exc.code), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        loc = [str(p) for p in err.get("loc", []) if p != "body"]
        if err.get("type") == "json_invalid":
            return JSONResponse(protocol.error("the request body is not valid JSON"), status_code=400)
        param = ".".join(loc) or None
        return JSONResponse(protocol.error(f"{param or 'body'}: {err.get('msg')}", param=param), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not_found" if exc.status_code == 404 else None
        return JSONResponse(protocol.error(str(exc.detail), param=None, code=code), status_code=exc.status_code)

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}  # open without the key, so it says nothing else (/v1/models lists)

    @app.get("/v1/models")
    def list_models() -> dict:
        return {"object": "list", "data": [_model_card(registry, s.id) for s in registry.served.values()]}

    @app.get("/v1/models/{model_id}")
    def get_model(model_id: str) -> dict:
        _known(registry, model_id)
        return _model_card(registry, model_id)

    @app.post("/v1/load_lora_adapter")
    async def load_adapter(body: LoadAdapter) -> dict:
        """vLLM's runtime LoRA API: serve the run at `lora_path` (under --runs) as `lora_name`."""
        try:
            served = await run_in_threadpool(registry.load, body.lora_name, body.lora_path)
        except LexituneError as e:
            raise ApiError(400, str(e), param="lora_path") from None
        return _model_card(registry, served.id)

    @app.post("/v1/unload_lora_adapter")
    async def unload_adapter(body: UnloadAdapter) -> dict:
        try:
            await run_in_threadpool(registry.unload, body.lora_name)
        except LexituneError as e:
            raise ApiError(404, str(e), param="lora_name", code="model_not_found") from None
        return {"id": body.lora_name, "object": "model", "deleted": True}

    @app.post("/v1/chat/completions")
    async def chat_completions(body: ChatRequest):
        _known(registry, body.model)
        if body.n != 1:
            raise ApiError(400, "only n=1 is supported", param="n")
        max_tokens = body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_TOKENS
        if max_tokens > max_tokens_limit:
            raise ApiError(400, f"max_tokens: at most {max_tokens_limit}", param="max_tokens")
        messages = body.chat_messages()
        if messages[-1]["role"] == "assistant":
            raise ApiError(400, "the last message must not be the assistant's", param="messages")
        chars = sum(len(m["content"]) for m in messages)
        if chars > registry.max_context * registry.max_token_chars:  # cannot fit, whatever the tokens
            raise ApiError(
                400,
                f"the messages ({chars} characters) exceed the model's context of {registry.max_context} tokens",
                param="messages",
                code="context_length_exceeded",
            )
        input_ids = await run_in_threadpool(registry.prompt_ids, body.model, messages)
        if input_ids.shape[1] + max_tokens > registry.max_context:
            raise ApiError(
                400,
                f"prompt ({input_ids.shape[1]} tokens) plus max_tokens exceed the model's "
                f"context of {registry.max_context}",
                param="messages",
                code="context_length_exceeded",
            )
        sampling = Sampling(
            max_tokens=max_tokens,
            temperature=body.temperature or 0.0,
            top_p=body.top_p if body.top_p is not None else 1.0,
            stop=body.stops(),
            seed=body.seed,
        )
        # The reply names the model asked for, whichever weights model.route chose to answer with.
        pieces = registry.reply(body.model, messages, input_ids, sampling)
        cid = protocol.completion_id()
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            events = _sse(cid, body.model, pieces, include_usage)
            return StreamingResponse(_in_threads(events), media_type="text/event-stream")
        collected = await run_in_threadpool(list, pieces)
        last: Piece = collected[-1]
        text = "".join(p.text for p in collected)
        return protocol.completion(
            cid, body.model, text, last.finish_reason, last.prompt_tokens, last.completion_tokens
        )

    return app


def _known(registry: AdapterRegistry, model_id: str) -> None:
    if model_id not in registry.served:
        raise ApiError(
            404,
            f"model {model_id!r} not found; this server has: {', '.join(registry.names)}",
            param="model",
            code="model_not_found",
        )


def _model_card(registry: AdapterRegistry, model_id: str) -> dict:
    served = registry.served[model_id]
    return {
        "id": served.id,
        "object": "model",
        "created": served.created,
        "owned_by": "lexitune",
        "root": registry.base_name if model_id == "base" else served.id,
        "parent": None if model_id == "base" else "base",
    }


def _sse(cid: str, model: str, pieces: Iterator[Piece], include_usage: bool) -> Iterator[str]:
    """Server-sent events: a role chunk, content chunks, a finish chunk, optional usage, `[DONE]`."""

    def event(data: dict) -> str:
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    yield event(protocol.chunk(cid, model, {"role": "assistant", "content": ""}))
    try:
        for piece in pieces:
            if piece.text:
                yield event(protocol.chunk(cid, model, {"content": piece.text}))
            if piece.finish_reason is not None:
                yield event(protocol.chunk(cid, model, {}, piece.finish_reason))
                if include_usage:
                    yield event(
                        {
                            **protocol.chunk(cid, model, {}, with_choice=False),
                            "usage": protocol.usage(piece.prompt_tokens, piece.completion_tokens),
                        }
                    )
    finally:
        pieces.close()  # a client that hung up releases the model at once
    yield "data: [DONE]\n\n"


async def _in_threads(events: Iterator[str]) -> AsyncIterator[str]:
    """Run a blocking generator off the event loop, and close it however the response ends.

    Closing matters: the generator holds the model's lock, and a client that hangs up mid-answer
    must not keep every other request waiting.
    """
    done = object()
    try:
        while (item := await run_in_threadpool(next, events, done)) is not done:
            yield item
    finally:
        await run_in_threadpool(events.close)
