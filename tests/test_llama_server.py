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
import pytest

pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is a dev dependency: run make install")


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


@pytest.mark.slow
def test_a_run_with_llama_cpp_as_generator_and_judge(llama_server, tiny_config, tmp_path):
    from lexitune.pipeline import run_pipeline
    from lexitune.rundir import RunDir

    endpoint = {"base_url": llama_server, "model": "smollm2", "cache_dir": str(tmp_path / "cache"), "timeout": 300}
    config = tiny_config.model_copy(deep=True)
    for key, value in {**endpoint, "backend": "openai", "conversations_per_term": 4, "temperature": 0.7}.items():
        setattr(config.generate, key, value)
    from lexitune.config import JudgeConfig

    config.eval.judge = JudgeConfig(**endpoint)
    config.eval.limit = 8
    try:
        metrics = run_pipeline(config, tmp_path / "run")
    except Exception as e:  # a glossary the model wrote nothing valid for ends in a clear report
        from lexitune.errors import LexituneError

        assert isinstance(e, LexituneError), repr(e)
        report = json.loads(RunDir(tmp_path / "run").generation_report.read_text())
        assert report["failures"] and all(f["dropped"] or f["attempts"] for f in report["failures"])
        return
    report = json.loads(RunDir(tmp_path / "run").generation_report.read_text())
    assert report["structured_output"] == "json_schema"  # the server took the schema
    assert "no JSON list of conversations" not in report["dropped"]  # its grammar held every reply to it
    assert report["usage"]["requests"] > 0 and report["usage"]["completion_tokens"] > 0
    named = {f["term"] for f in report["failures"]}
    for term, row in report["per_term"].items():
        assert row["train"] > 0 or term in named  # kept with conversations, or named with its reasons
        if term in named:
            assert row["dropped"] or row["attempts"]
    judged = metrics["judge_agreement"]
    for side in ("before", "after"):
        assert judged[side]["judged"] == metrics["test_questions"] and judged[side]["unjudged"] == 0
    assert judged["usage"]["requests"] > 0
