"""What every request passes before any route reads it: the API key, a body size limit, and a
deadline for reading the body, as a plain ASGI middleware.

It runs before FastAPI parses anything, so a request without the key costs a header lookup, never
a 50 MB JSON parse; a body larger than the limit is refused as it arrives (413), whether or not it
declares its length; a client that has not sent its whole body by the deadline is answered 408 and
its connection closed, so slow clients cannot hold sockets open without end. Only `/health` is open
without the key, and it says nothing but "ok"; loading and unloading adapters needs the admin key.

    python -c "from lexitune.serve.guard import Guard; help(Guard)"
"""

from __future__ import annotations

import asyncio
import hmac
import json

OPEN_PATHS = frozenset({"/health"})
ADMIN_PATHS = frozenset({"/v1/load_lora_adapter", "/v1/unload_lora_adapter"})
MAX_BODY_BYTES = 1_000_000  # a chat request of the largest context this server runs is far below
BODY_TIMEOUT_S = 30.0


class _Refused(Exception):
    def __init__(self, status: int, message: str, code: str, type_: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.code, self.type = status, message, code, type_


class Guard:
    def __init__(
        self,
        app,
        api_key: str | None = None,
        admin_key: str | None = None,
        max_body: int | None = None,
        body_timeout: float | None = None,
    ):
        self.app, self.api_key, self.admin_key = app, api_key, admin_key
        self.max_body = max_body or MAX_BODY_BYTES
        self.body_timeout = body_timeout or BODY_TIMEOUT_S

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            self._check_key(scope)
            self._check_declared_length(scope)
        except _Refused as refused:
            return await _answer(send, refused)
        try:
            body = await self._read_body(receive)
        except _Refused as refused:
            return await _answer(send, refused)
        replayed = False

        async def replay():
            # The app reads the body already checked; after it, wait for the client's disconnect.
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, receive) -> bytes:
        """The whole body, within the size limit and the deadline (chat requests are small; reading
        them before the app does is what lets a refusal be a clean 4xx, not an error mid-route)."""
        chunks, size = [], 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.body_timeout
        while True:
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise _Refused(
                    408, f"the request body did not arrive within {self.body_timeout:.0f} s", "request_timeout"
                ) from None
            if message["type"] == "http.disconnect":
                raise _Refused(400, "the client disconnected", "client_disconnected")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _Refused(413, f"request body over {self.max_body} bytes", "request_too_large")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _check_key(self, scope) -> None:
        path = scope["path"]
        if path in OPEN_PATHS:
            return
        if path in ADMIN_PATHS:  # loading adapters needs the admin key, whatever else is set
            if self.admin_key is None:
                raise _Refused(
                    403, "adapters cannot be loaded at runtime: start with --admin-key-env", "admin_disabled"
                )
            if not _bearer(scope, self.admin_key):
                raise _Refused(401, "invalid or missing admin key", "invalid_api_key", "authentication_error")
            return
        if self.api_key is None or _bearer(scope, self.api_key) or (self.admin_key and _bearer(scope, self.admin_key)):
            return
        raise _Refused(
            401,
            "invalid or missing API key (send 'Authorization: Bearer KEY')",
            "invalid_api_key",
            "authentication_error",
        )

    def _check_declared_length(self, scope) -> None:
        length = dict(scope["headers"]).get(b"content-length")
        if length is None:
            return
        try:
            declared = int(length)
        except ValueError:
            raise _Refused(400, "content-length is not a number", "invalid_request") from None
        if declared > self.max_body:
            raise _Refused(413, f"request body over {self.max_body} bytes", "request_too_large")


def _bearer(scope, key: str) -> bool:
    header = dict(scope["headers"]).get(b"authorization", b"")
    scheme, _, given = header.partition(b" ")
    # Constant-time comparison: the time taken says nothing about how much of the key was right.
    return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), key.encode())


async def _answer(send, refused: _Refused) -> None:
    body = json.dumps(
        {"error": {"message": refused.message, "type": refused.type, "param": None, "code": refused.code}}
    ).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if refused.status in (408, 413):
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": refused.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


HEADERS_TIMEOUT_S = 10.0


def uvicorn_config(app, host: str, port: int, **options):
    """uvicorn's settings for `lexitune serve`: a connection that has not sent a whole request head
    within HEADERS_TIMEOUT_S is closed (uvicorn only times out idle keep-alive connections, so a
    slowloris client that trickles its headers would otherwise hold its socket for ever)."""
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimelyH11(H11Protocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._head_deadline = self.loop.call_later(HEADERS_TIMEOUT_S, self._head_too_slow)

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None and self._head_deadline is not None:  # a whole request head came
                self._head_deadline.cancel()
                self._head_deadline = None

        def connection_lost(self, exc) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
            super().connection_lost(exc)

        def _head_too_slow(self) -> None:
            self._head_deadline = None
            if self.cycle is None and not self.transport.is_closing():
                self.transport.close()

    return uvicorn.Config(app, host=host, port=port, log_level="warning", http=TimelyH11, **options)
