"""The LLM judge over real HTTP: verdicts, tolerant parsing, faults, agreement with exact recall."""

from __future__ import annotations

import pytest
from rich.console import Console

from lexitune.config import JudgeConfig
from lexitune.evaluate.judge import judge_sides, parse
from lexitune.evaluate.scoring import score, summarize
from tests.fake_openai import FakeLLM, culinary

GLOSSARY = culinary(3)


@pytest.fixture
def llm():
    with FakeLLM(GLOSSARY) as server:
        yield server


def test_parse_reads_json_prose_and_loose_verdicts():
    assert parse('{"verdict": 1, "explanation": "Same meaning."}') == (1, "Same meaning.")
    assert parse('Voici mon avis : ```json\n{"verdict": "0", "explanation": "Autre sens."}\n```') == (0, "Autre sens.")
    assert parse("Verdict: 1. The answer gives the expected expansion.")[0] == 1
    verdict, why = parse("I am not sure.")
    assert verdict is None and "no verdict" in why


def test_judge_fills_accuracy_and_lists_disagreements_with_exact_recall(llm, tmp_path):
    llm.faults = {"judge": ["500", "prose"]}  # a server error, then a reply wrapped in prose
    tec = GLOSSARY["TEC"]
    questions = [{"term": "TEC", "style": "llm.00", "question": "Que veut dire TEC ?", "expected": tec}] * 3
    after = [f"TEC signifie « {tec} ».", "TEC signifie Techniques Elementaire et Culinaires.", "Je ne sais pas."]
    before = ["Aucune idée.", "TEC veut dire Transport En Commun.", "TEC ?"]
    expected = [q["expected"] for q in questions]
    after_rows, before_rows = score(after, expected, None), score(before, expected, None)
    cfg = JudgeConfig(base_url=llm.url, model="fake-judge", cache_dir=tmp_path / "cache", backoff=0.01)
    out = judge_sides(cfg, questions, {"before": (before, before_rows), "after": (after, after_rows)}, Console())
    assert [r["judge"] for r in after_rows] == [1, 1, 0] and [r["judge"] for r in before_rows] == [0, 0, 0]
    assert summarize(after_rows)["judge_accuracy"] == pytest.approx(0.6667)
    assert summarize(before_rows)["judge_accuracy"] == 0.0
    assert out["after"]["agreement"] == pytest.approx(0.6667) and out["before"]["agreement"] == 1.0
    # The typo exact recall refuses and the judge forgives is the one disagreement, listed in full.
    (d,) = out["after"]["disagreements"]
    assert d["answer"] == after[1] and d["exact"] is False and d["judge"] == 1 and d["explanation"]
    assert out["after"]["judge_yes_exact_no"] == 1 and out["usage"]["retries"] == 1
    assert all(r["body"]["model"] == "fake-judge" for r in llm.requests)
    assert all(r["body"]["response_format"]["json_schema"]["name"] == "verdict" for r in llm.requests)


def test_an_unreachable_judge_leaves_verdicts_empty_not_the_run_broken(tmp_path):
    cfg = JudgeConfig(base_url="http://127.0.0.1:9/v1", model="x", cache_dir=tmp_path, max_retries=1, backoff=0.01)
    rows = score(["a"], ["b"], None)
    out = judge_sides(
        cfg, [{"term": "T", "style": "s", "question": "q", "expected": "b"}], {"after": (["a"], rows)}, Console()
    )
    assert rows[0]["judge"] is None and rows[0]["judge_explanation"].startswith("judge error: connection error")
    assert summarize(rows)["judge_accuracy"] is None and out["after"]["unjudged"] == 1


def test_a_judge_can_be_switched_on_from_the_command_line_over_a_saved_null():
    from lexitune.config import apply_overrides, validate_config

    data = apply_overrides({"eval": {"judge": None}}, ["eval.judge.model=gemma3:27b"])
    judge = validate_config(data, "config.yaml").eval.judge
    assert judge.model == "gemma3:27b" and judge.temperature == 0.0 and judge.base_url.endswith(":11434/v1")
