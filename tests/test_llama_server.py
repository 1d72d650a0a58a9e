"""lexitune's LLM generator and judge against a real OpenAI-compatible server (serving issue,
part 6): llama.cpp's `python -m llama_cpp.server` serving the shipped SmolLM2 GGUF, started here on
127.0.0.1 and stopped after. Quality does not matter; the protocol does: structured output with a
JSON schema (llama.cpp turns it into a grammar), every reply parsed, usage counted, every term kept
or named in the failures with a reason, the judge's verdicts parsed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import llama_cpp.server  # noqa: F401  (a dev dependency; the server is started below as a program)
import pytest


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    from lexitune.models import _shipped_gguf

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(_shipped_gguf()),
        "--model_alias",
        "smollm2",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        "--n_threads",
        "2",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=30)


def _endpoint(url: str, tmp_path) -> dict:
    return {"base_url": url, "model": "smollm2", "cache_dir": str(tmp_path / "cache"), "timeout": 300}


@pytest.mark.slow
def test_generation_through_llama_cpp_accounts_for_every_term(llama_server, tiny_config, tmp_path):
    """The shipped 135M model writes poor conversations; every term must still end kept with
    conversations or named in the failures with its reasons, and a glossary with none kept ends in
    one clear error and a report, not a traceback."""
    from lexitune.errors import LexituneError
    from lexitune.generate.stage import prepare_data
    from lexitune.rundir import RunDir

    config = tiny_config.model_copy(deep=True)
    for key, value in {**_endpoint(llama_server, tmp_path), "backend": "openai", "conversations_per_term": 4}.items():
        setattr(config.generate, key, value)
    run = RunDir(tmp_path / "run")
    from rich.console import Console

    try:
        prepare_data(config, run, Console(stderr=True))
    except LexituneError as e:
        assert "per term:" in str(e) and str(run.generation_report) in str(e)
    report = json.loads(run.generation_report.read_text())
    assert report["structured_output"] in ("json_schema", "json_object_schema")  # a schema, as a grammar
    assert "no JSON list of conversations" not in report["dropped"]  # llama.cpp's grammar held every reply
    assert report["usage"]["requests"] > 0 and report["usage"]["completion_tokens"] > 0
    named = {f["term"] for f in report["failures"]}
    from lexitune.glossary import load_from_config

    assert set(report["per_term"]) == {t.term for t in load_from_config(config.glossary)}
    for term, row in report["per_term"].items():
        assert row["train"] > 0 or (term in named and row["dropped"])  # kept, or named with its reasons


@pytest.mark.slow
def test_the_judge_through_llama_cpp_gives_a_verdict_for_every_answer(llama_server, tiny_config, tmp_path):
    from lexitune.config import JudgeConfig
    from lexitune.pipeline import run_pipeline

    config = tiny_config.model_copy(deep=True)
    config.eval.judge = JudgeConfig(**_endpoint(llama_server, tmp_path))
    config.eval.limit = 8
    metrics = run_pipeline(config, tmp_path / "run")
    judged = metrics["judge_agreement"]
    for side in ("before", "after"):
        assert judged[side]["judged"] == metrics["test_questions"] and judged[side]["unjudged"] == 0
    assert judged["usage"]["requests"] > 0 and judged["usage"]["completion_tokens"] > 0
