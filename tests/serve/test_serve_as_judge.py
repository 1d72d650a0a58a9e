"""lexitune's own server plays the LLM judge: the judge client and the server speak the same API.

The tiny model cannot grade answers, so this checks the wiring a user relies on (the judge's
structured-output request, its fallbacks, auth and the replies reaching `answers.jsonl`'s fields),
not the quality of the verdicts.
"""

from rich.console import Console

from lexitune.config import JudgeConfig
from lexitune.evaluate.judge import judge_sides
from lexitune.evaluate.scoring import score


def test_lexitune_serve_answers_the_judge(live, tmp_path, monkeypatch):
    monkeypatch.setenv("LEXITUNE_TEST_KEY", "sk-test-key")
    cfg = JudgeConfig(
        base_url=f"{live.url}/v1",
        model="culinary",
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
    verdict = rows[0]["judge"]
    explanation = rows[0]["judge_explanation"]
    # Either a verdict, or the server's own text quoted back: never a transport error.
    assert verdict in (0, 1) or "no verdict in the judge's reply" in explanation, explanation
