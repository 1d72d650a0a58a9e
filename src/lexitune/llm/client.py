"""Many chat requests to an OpenAI-compatible endpoint at once: concurrency limit, retries, cache, usage.

    python -c "from lexitune.llm import LLMClient, Request; from lexitune.config import EndpointConfig; c = LLMClient(EndpointConfig(model='llama3.2'), 'generate'); print(c.run([Request([{'role': 'user', 'content': 'Say hi'}])])[0].text, c.usage)"

- At most `concurrency` requests are in flight (an asyncio.Semaphore), so a local Ollama is not
  flooded and a hosted API's rate limit is approached gently.
- Timeouts, 429, 5xx and dropped connections are retried with exponential backoff and jitter;
  a `Retry-After` (or `retry-after-ms`) header from the server wins over our own schedule. The
  openai library's own retries are switched off so that there is one policy, and it is ours.
- Structured output: `json_schema` is asked first; a server that rejects it (400/422, or a 5xx
  naming response_format) is asked again with `json_object` and the schema beside it (which
  llama-cpp-python turns into a grammar), then plain `json_object`, then plain text, and the
  client remembers what worked. Replies
  are parsed tolerantly anyway (`extract.py`), because some servers accept the option and ignore it.
- Every successful reply is cached on disk, keyed by the request (model, messages, temperature,
  schema, attempt), before it is used: a killed run resumes without asking twice.
- The API key is read from the environment variable named by `api_key_env`, used for the
  request header and nowhere else: it is never logged, cached or saved with the run.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lexitune.config import EndpointConfig
from lexitune.errors import LexituneError
from lexitune.llm.cache import ReplyCache

# json_object_schema: JSON mode with the schema beside it, llama-cpp-python's way of asking for a
# grammar (its server refuses json_schema, and honours {"type": "json_object", "schema": ...}).
MODES = ["json_schema", "json_object_schema", "json_object", "text"]
MAX_WAIT = 120.0  # seconds: a Retry-After beyond this is capped, so a run never sleeps for hours


@dataclass
class Request:
    """One chat completion: `schema` asks for structured output; `attempt` makes a retry a new request."""

    messages: list[dict]
    schema: dict | None = None
    schema_name: str = "reply"
    attempt: int = 0
    tag: str = ""  # what the caller needs to route the reply (e.g. the term); not part of the cache key


@dataclass
class Reply:
    text: str | None
    error: str | None = None
    cached: bool = False
    mode: str = "text"


@dataclass
class Usage:
    requests: int = 0
    cached: int = 0
    failed: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.requests} requests ({self.cached} from cache, {self.retries} retries, {self.failed} failed), "
            f"{self.prompt_tokens} prompt + {self.completion_tokens} completion tokens, {self.seconds:.1f} s"
        )


@dataclass
class _Transient(Exception):
    """A failure worth retrying, with the server's requested wait if it gave one."""

    reason: str
    retry_after: float | None = None


class LLMClient:
    """One endpoint (`generate` or `eval.judge` settings) and the usage it has accumulated."""

    def __init__(self, cfg: EndpointConfig, section: str, console: Console | None = None):
        if not cfg.model:
            raise LexituneError(f"{section}.model: required to use an OpenAI-compatible endpoint (e.g. gemma3:27b)")
        self.cfg, self.section = cfg, section
        self.console = console or Console(stderr=True)
        self.mode = "json_schema" if cfg.structured == "auto" else cfg.structured
        self.cache = ReplyCache(cfg.cache_dir or default_cache_dir())
        self.usage = Usage()
        self._api_key = self._read_key()

    def _read_key(self) -> str:
        name = self.cfg.api_key_env
        if name is None:
            return "not-needed"  # local servers ignore it, but the openai client insists on one
        value = os.environ.get(name)
        if not value:
            raise LexituneError(f"{self.section}.api_key_env: the environment variable {name} is not set")
        return value

    def _body(self, request: Request, mode: str) -> dict:
        body = {"model": self.cfg.model, "messages": request.messages, "temperature": self.cfg.temperature}
        if request.schema is not None and mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": True},
            }
        elif request.schema is not None and mode == "json_object_schema":
            body["response_format"] = {"type": "json_object", "schema": request.schema}
        elif request.schema is not None and mode == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    def run(self, requests: list[Request], description: str = "LLM") -> list[Reply]:
        """Replies in the order of `requests`; a request that still fails after retries gets `error`."""
        started = time.perf_counter()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            running = False
        else:
            running = True
        try:
            if not running:
                return asyncio.run(self._run_all(requests, description))
            # Called from inside an event loop (a notebook, a server): run ours on a thread of its own.
            with ThreadPoolExecutor(1) as pool:
                return pool.submit(asyncio.run, self._run_all(requests, description)).result()
        finally:
            self.usage.seconds += time.perf_counter() - started

    async def _run_all(self, requests: list[Request], description: str) -> list[Reply]:
        from openai import AsyncOpenAI

        # A fresh client per run: its HTTP pool belongs to this event loop.
        client = AsyncOpenAI(base_url=self.cfg.base_url, api_key=self._api_key, max_retries=0, timeout=self.cfg.timeout)
        limit = asyncio.Semaphore(self.cfg.concurrency)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )

        async def one(request: Request) -> Reply:
            async with limit:
                reply = await self._complete(client, request)
            progress.advance(task)
            return reply

        with progress:
            task = progress.add_task(f"{description} ({self.cfg.model})", total=len(requests))
            try:
                return list(await asyncio.gather(*(one(r) for r in requests)))
            finally:
                await client.close()

    async def _complete(self, client, request: Request) -> Reply:
        while True:
            mode = self.mode if request.schema is not None else "text"
            body = self._body(request, mode)
            key = self.cache.key({**body, "attempt": request.attempt})
            hit = self.cache.get(key)
            if hit is not None:
                self.usage.cached += 1
                return Reply(text=hit["text"], cached=True, mode=mode)
            try:
                text = await self._with_retries(client, body)
            except _Unsupported:
                if self._downgrade(mode):
                    continue
                self.usage.failed += 1
                return Reply(text=None, error="the server rejected the request (400)", mode=mode)
            except _Transient as e:
                self.usage.failed += 1
                return Reply(text=None, error=e.reason, mode=mode)
            self.cache.put(key, {"text": text, "model": self.cfg.model})
            return Reply(text=text, mode=mode)

    def _downgrade(self, mode: str) -> bool:
        """json_schema → json_object with the schema → json_object → text, once for the whole client
        (the first request to fail decides)."""
        if self.cfg.structured != "auto" or mode == "text":
            return False
        if self.mode == mode:
            self.mode = MODES[MODES.index(mode) + 1]
            self.console.print(f"{self.section}: the server does not accept response_format {mode}; using {self.mode}")
        return True

    async def _with_retries(self, client, body: dict) -> str:
        for attempt in range(self.cfg.max_retries + 1):
            try:
                return await self._post(client, body)
            except _Transient as e:
                if attempt == self.cfg.max_retries:
                    raise
                self.usage.retries += 1
                await asyncio.sleep(self._wait(attempt, e.retry_after))
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_WAIT)
        # Full jitter: requests that failed together do not come back together.
        return min(self.cfg.backoff * 2**attempt, MAX_WAIT) * random.uniform(0.5, 1.0)

    async def _post(self, client, body: dict) -> str:
        import openai

        self.usage.requests += 1
        try:
            response = await client.chat.completions.create(**body)
        except openai.APITimeoutError:
            raise _Transient("timeout") from None
        except openai.APIConnectionError as e:
            raise _Transient(f"connection error ({type(e.__cause__).__name__ if e.__cause__ else 'closed'})") from None
        except openai.APIStatusError as e:
            status = e.status_code
            if "response_format" in body and (
                status in (400, 404, 415, 422) or (status >= 500 and "response_format" in str(e.message))
            ):
                # Some servers (llama-cpp-python) answer a response_format they do not know with a 500
                # naming it: a refusal of the option, not a fault to retry.
                raise _Unsupported() from None
            if status == 429 or status == 408 or status >= 500:
                raise _Transient(f"HTTP {status}", _retry_after(e.response)) from None
            raise LexituneError(
                f"{self.section}: {self.cfg.base_url} answered HTTP {status}: {_short(e.message)}"
            ) from None
        if response.usage is not None:
            self.usage.prompt_tokens += response.usage.prompt_tokens or 0
            self.usage.completion_tokens += response.usage.completion_tokens or 0
        if not response.choices or response.choices[0].message is None:
            raise _Transient("empty reply")
        return response.choices[0].message.content or ""


class _Unsupported(Exception):
    """The server refused the request's response_format."""


def _retry_after(response) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, `Retry-After` in seconds or as an HTTP date."""
    headers = getattr(response, "headers", None) or {}
    try:
        if "retry-after-ms" in headers:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"


def default_cache_dir() -> Path:
    from lexitune.models import cache_dir

    return cache_dir() / "llm"
