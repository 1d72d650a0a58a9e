"""The OpenAI-compatible client against a real HTTP server on 127.0.0.1: faults, retries, cache, key."""

from __future__ import annotations

import pytest

from lexitune.config import EndpointConfig
from lexitune.errors import LexituneError
from lexitune.generate.llm import SCHEMA, prompt
from lexitune.glossary.term import Term
from lexitune.llm import LLMClient, Request
from tests.fake_openai import FakeLLM, culinary

TERMS = culinary(3)


@pytest.fixture
def llm():
    with FakeLLM(TERMS, timeout_sleep=2.5) as server:
        yield server


def _cfg(llm: FakeLLM, tmp_path, **kw) -> EndpointConfig:
    return EndpointConfig(base_url=llm.url, model="fake", cache_dir=tmp_path / "cache", backoff=0.01, **kw)


def _requests(n: int = 3) -> list[Request]:
    from lexitune.config import GenerateConfig

    cfg = GenerateConfig(language="fr")
    return [
        Request([{"role": "user", "content": prompt(Term(term=t, definition=d), 4, cfg)}], schema=SCHEMA)
        for t, d in list(TERMS.items())[:n]
    ]


def test_transient_faults_are_retried_until_every_request_is_answered(llm, tmp_path):
    llm.faults = {"PER": ["500", "500"], "FUN": ["drop"], "TEC": ["timeout"]}
    client = LLMClient(_cfg(llm, tmp_path, timeout=1.0), "generate")
    replies = client.run(_requests())
    assert all(r.error is None and "conversations" in r.text for r in replies)
    assert sorted(r["fault"] for r in llm.requests if r["fault"] != "ok") == ["500", "500", "drop", "timeout"]
    assert {r["key"] for r in llm.answered()} == {"PER", "FUN", "TEC"} and client.usage.failed == 0
    # (>= rather than ==: on a loaded machine a healthy reply may also exceed the 1 s timeout)
    assert client.usage.retries >= 4
    assert client.usage.prompt_tokens > 0 and client.usage.completion_tokens > 0


def test_429_waits_as_long_as_retry_after_says(llm, tmp_path):
    llm.faults = {"PER": ["429"]}
    client = LLMClient(_cfg(llm, tmp_path), "generate")
    client.run(_requests(1))
    first, second = llm.received("PER")
    assert first["fault"] == "429" and second["answered"]
    assert second["time"] - first["time"] >= 0.95, "Retry-After: 1 was not honoured"


def test_a_request_failing_past_max_retries_is_an_error_not_a_crash(llm, tmp_path):
    llm.faults = {"PER": ["500"] * 3}
    client = LLMClient(_cfg(llm, tmp_path, max_retries=2), "generate")
    replies = client.run(_requests(2))
    assert replies[0].error == "HTTP 500" and replies[0].text is None
    assert replies[1].error is None
    assert len(llm.received("PER")) == 3 and client.usage.failed == 1


@pytest.mark.parametrize("status", [400, 500])  # 500 naming response_format: llama-cpp-python's way
def test_json_schema_rejected_falls_back_to_json_object_with_the_schema(llm, tmp_path, status):
    llm.reject_json_schema = True
    llm.reject_json_schema_status = status
    client = LLMClient(_cfg(llm, tmp_path, concurrency=1), "generate")
    replies = client.run(_requests())
    assert all(r.error is None for r in replies) and client.mode == "json_object_schema"
    # Only the first request pays for the discovery: the client remembers what the server accepts.
    formats = [r["body"].get("response_format") or {} for r in llm.requests]
    assert [f.get("type") for f in formats] == ["json_schema", "json_object", "json_object", "json_object"]
    assert all("schema" in f for f in formats[1:]) and client.usage.retries == 0


def test_cached_replies_cost_no_request_and_a_new_attempt_does(llm, tmp_path):
    cfg = _cfg(llm, tmp_path)
    LLMClient(cfg, "generate").run(_requests())
    again = LLMClient(cfg, "generate")
    replies = again.run(_requests())
    assert len(llm.requests) == 3 and all(r.cached for r in replies) and again.usage.cached == 3
    retry = _requests(1)[0]
    retry.attempt = 1
    assert not again.run([retry])[0].cached and len(llm.requests) == 4


def test_api_key_is_read_from_the_named_variable_and_never_stored(llm, tmp_path, monkeypatch):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("LEXITUNE_TEST_KEY", secret)
    client = LLMClient(_cfg(llm, tmp_path, api_key_env="LEXITUNE_TEST_KEY"), "generate")
    client.run(_requests(1))
    assert llm.requests[0]["auth"] == f"Bearer {secret}"
    cached = [p.read_text() for p in (tmp_path / "cache").rglob("*.json")]
    assert cached and not any(secret in text for text in cached)


def test_missing_key_variable_and_missing_model_are_user_errors(llm, tmp_path, monkeypatch):
    monkeypatch.delenv("LEXITUNE_ABSENT_KEY", raising=False)
    with pytest.raises(LexituneError, match="LEXITUNE_ABSENT_KEY is not set"):
        LLMClient(_cfg(llm, tmp_path, api_key_env="LEXITUNE_ABSENT_KEY"), "generate")
    with pytest.raises(LexituneError, match="generate.model: required"):
        LLMClient(EndpointConfig(base_url=llm.url), "generate")


def test_a_key_pasted_instead_of_a_variable_name_is_refused_without_echoing_it():
    from lexitune.config import load_config

    with pytest.raises(LexituneError) as info:
        load_config(None, ["generate.api_key_env=sk-proj-abc123"])
    assert "NAME of an environment variable" in str(info.value) and "abc123" not in str(info.value)


def test_run_works_from_inside_a_running_event_loop(llm, tmp_path):
    import asyncio

    async def inside() -> list:
        return LLMClient(_cfg(llm, tmp_path), "generate").run(_requests(1))

    assert asyncio.run(inside())[0].error is None
