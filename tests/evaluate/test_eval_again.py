"""`lexitune eval` on a finished run: caches keyed by what made them, the base answers from the base."""

from __future__ import annotations

import json
import shutil

import pytest
from rich.console import Console
from typer.testing import CliRunner

from lexitune.cli import app
from lexitune.config import load_config
from lexitune.evaluate.stage import evaluate_run
from lexitune.rundir import RunDir


def _eval(run: RunDir, *overrides: str) -> dict:
    return evaluate_run(load_config(run.config, list(overrides)), run, Console(quiet=True))


def _rows(run: RunDir) -> list[dict]:
    return [json.loads(line) for line in run.answers.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def copied(trained_run, tmp_path) -> RunDir:
    shutil.copytree(trained_run, tmp_path / "run")
    return RunDir(tmp_path / "run")


def test_a_limit_asks_fewer_questions_after_a_full_evaluation(copied):
    full = _eval(copied)
    limited = _eval(copied, "eval.limit=5")  # crashed with "tensor 45 vs 5" when before.json was reused
    assert limited["test_questions"] == 5 and full["test_questions"] > 5
    assert [r["before"] for r in _rows(copied)] == json.loads(copied.before_cache.read_text())["value"]


def test_a_new_length_limit_recomputes_the_base_answers(copied):
    _eval(copied)
    long_before = [r["before"] for r in _rows(copied)]
    _eval(copied, "eval.max_new_tokens=2")
    short_before = [r["before"] for r in _rows(copied)]
    # The cached 8-token answers were compared with 2-token ones before: now the base answers again.
    assert short_before != long_before
    assert sum(map(len, short_before)) < sum(map(len, long_before)) / 2


def test_train_then_eval_and_a_full_fine_tune_is_compared_with_the_base(tiny_config, tmp_path, tiny_base, monkeypatch):
    """`lexitune train` then `lexitune eval`; for a full fine-tune the 'before' side is the base
    model's answers, not the tuned weights' (they were, with no cache to read)."""
    from lexitune.config import save_config
    from lexitune.generate import read_conversations
    from lexitune.inference import Answerer

    monkeypatch.setenv("LEXITUNE_SHARED_CACHE", "0")  # the base answers must be computed, not found
    tiny_config.train.method = "full"
    tiny_config.train.learning_rate = 5e-3
    tiny_config.train.epochs = 3
    config_path = tmp_path / "full.yaml"
    save_config(tiny_config, config_path)
    runner = CliRunner()
    out = tmp_path / "run"
    trained = runner.invoke(app, ["train", str(config_path), "--out", str(out)])
    assert trained.exit_code == 0, trained.output
    run = RunDir(out)
    assert (run.full_model / "config.json").exists() and not run.metrics.exists()
    shutil.rmtree(run.root / "eval")  # nothing cached: the base must be loaded again
    evaluated = runner.invoke(app, ["eval", str(out)])
    assert evaluated.exit_code == 0, evaluated.output
    rows = _rows(run)
    model, tokenizer = tiny_base
    config = load_config(run.config)
    questions = read_conversations(run.test_data)
    base = Answerer.base(model, tokenizer, config).answer([q.prompt_messages() for q in questions])
    assert [r["before"] for r in rows] == base
    assert any(r["after"] != r["before"] for r in rows)  # else this test could not fail


def test_the_base_answers_are_shared_across_runs_of_one_model(trained_run, tmp_path, monkeypatch):
    from lexitune.inference import Answerer, load_trained
    from lexitune.inference.cache import base_answers

    monkeypatch.setenv("LEXITUNE_CACHE", str(tmp_path / "cache"))
    model, tokenizer, config = load_trained(trained_run)
    answerer = Answerer.base(model, tokenizer, config)
    prompts = [[{"role": "user", "content": "Que veut dire TEC ?"}]]
    first = base_answers(answerer, config.model.name, prompts, tmp_path / "a" / "before.json")
    assert len(list((tmp_path / "cache" / "answers").glob("*.json"))) == 1
    # Another run asking the same: read from the shared cache (a poisoned entry proves it was read).
    shared = next((tmp_path / "cache" / "answers").glob("*.json"))
    data = json.loads(shared.read_text())
    shared.write_text(json.dumps({**data, "value": ["from the cache"]}))
    assert base_answers(answerer, config.model.name, prompts, tmp_path / "b" / "before.json") == ["from the cache"]
    longer = Answerer.base(model, tokenizer, config, max_new_tokens=3)
    assert base_answers(longer, config.model.name, prompts, tmp_path / "c" / "before.json") != ["from the cache"]
    assert first != ["from the cache"]
