"""`lexitune run` with an OpenAI-compatible LLM as generator and judge (the fake server), tiny model."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from lexitune.cli import app
from lexitune.config import save_config
from lexitune.llm.extract import extract_json
from lexitune.rundir import RunDir
from tests.fake_openai import FakeLLM, culinary


def test_run_with_llm_generator_and_judge(tiny_config, tmp_path, monkeypatch):
    monkeypatch.setenv("LEXITUNE_FAKE_KEY", "sk-never-written-anywhere")
    config_path = tmp_path / "lexitune.yaml"
    save_config(tiny_config, config_path)
    out = tmp_path / "run"
    with FakeLLM(culinary(4)) as llm:
        llm.faults = {"FUN": ["prose"], "judge": ["429"]}
        endpoint = {
            "base_url": llm.url,
            "api_key_env": "LEXITUNE_FAKE_KEY",
            "cache_dir": str(tmp_path / "cache"),
            "backoff": 0.01,
        }
        args = [
            "run",
            str(config_path),
            "--out",
            str(out),
            "--set",
            "generate.backend=openai",
            "--set",
            "generate.model=fake-writer",
            "--set",
            "generate.conversations_per_term=4",
            "--set",
            "eval.judge=" + json.dumps({**endpoint, "model": "fake-judge"}),
        ]
        for key, value in endpoint.items():
            args += ["--set", f"generate.{key}={value}"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output + repr(result.exception)
        replies = [extract_json(r["reply"]) for r in llm.answered()]
    run = RunDir(out)
    metrics = json.loads(run.metrics.read_text())
    for side in ("before", "after"):
        assert isinstance(metrics[side]["judge_accuracy"], float)
        # 4 held-out questions the LLM wrote, and 2 reverse + 4 sealed a term from the templates.
        assert metrics["judge_agreement"][side]["judged"] == metrics["test_questions"] == 4 + 4 * 6
    # The data files were written by the LLM: every conversation is one the server sent.
    written = [c["messages"] for r in replies if "conversations" in r for c in r["conversations"]]
    train = [json.loads(line) for line in run.train_data.read_text().splitlines()]
    test = [json.loads(line) for line in run.test_data.read_text().splitlines()]
    llm_rows = [c for c in train + test if c["style"].startswith("llm.")]
    assert len(llm_rows) == 16 and all(c["messages"] in written for c in llm_rows)
    # 3 LLM conversations a term for training, topped up to train_styles (8) with template phrasings.
    assert len(train) == 4 * 8 and sum(c["style"].startswith("template/") for c in train) == 4 * 5
    assert len(test) == 4 + 4 * 6
    answers = [json.loads(line) for line in run.answers.read_text().splitlines()]
    assert {"after_judge", "after_judge_explanation", "before_judge"} <= set(answers[0])
    report = json.loads(run.generation_report.read_text())
    assert report["model"] == "fake-writer" and report["failures"] == [] and report["kept"] == 16
    assert report["topped_up"]["total_added"] == 20
    # The key is used for the requests and found nowhere in the run folder.
    assert all(r["auth"] == "Bearer sk-never-written-anywhere" for r in llm.requests)
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in {".json", ".jsonl", ".yaml", ".txt"}:
            assert "sk-never-written-anywhere" not in path.read_text(encoding="utf-8", errors="ignore"), path
