"""lexitune's own server plays the LLM judge: the judge client and the server speak the same API.

The served model is taught to reply with one verdict (the canned tiny model), so the whole path a
user relies on is checked exactly: the judge's structured-output request, auth, the reply parsed,
the verdict reaching `answers.jsonl`'s fields.
"""

import json

import pytest
from rich.console import Console

from lexitune.config import JudgeConfig
from lexitune.evaluate.judge import judge_sides
from lexitune.evaluate.scoring import score
from tests.conftest import CANNED_ANSWER


@pytest.mark.slow
def test_lexitune_serve_answers_the_judge(canned_run, live_server, tmp_path, monkeypatch):
    from lexitune.serve import AdapterRegistry, create_app

    monkeypatch.setenv("LEXITUNE_TEST_KEY", "sk-test-key")
    registry = AdapterRegistry.from_runs({"judge": canned_run})
    with live_server(create_app(registry, api_key="sk-test-key")) as live:
        _judge_through(live, tmp_path)


def _judge_through(live, tmp_path):
    cfg = JudgeConfig(
        base_url=f"{live.url}/v1",
        model="judge",
        api_key_env="LEXITUNE_TEST_KEY",
        cache_dir=tmp_path / "cache",
        max_retries=1,
        backoff=0.01,
    )
    questions = [
        {
            "term": "TEC",
            "style": "fr.q12",
            "question": "TEC, qu’est-ce que c’est ?",
            "expected": "Techniques Élémentaires et Culinaires",
        }
    ]
    answers = ["TEC signifie Techniques Élémentaires et Culinaires."]
    rows = score(answers, [q["expected"] for q in questions], scorer=None)
    out = judge_sides(cfg, questions, {"after": (answers, rows)}, Console(stderr=True))
    assert out["usage"]["requests"] >= 1 and out["usage"]["failed"] == 0, out["usage"]
    assert (rows[0]["judge"], rows[0]["judge_explanation"]) == (1, json.loads(CANNED_ANSWER)["explanation"])
