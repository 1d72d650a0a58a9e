"""An LLM judge over any OpenAI-compatible API (`eval.judge`): did the answer give the expected meaning?

    lexitune eval runs/culinary --set eval.judge.model=gemma3:27b

The course's rubric: given the question, the expected definition and the model's answer, the
verdict is 1 if the answer gives the expected meaning (wording may differ), else 0, with a short
explanation. Verdicts fill `judge_accuracy` (through the `judge` key that `scoring.summarize`
averages) before and after training. How often the judge agrees with `exact_recall`, and every
answer where they disagree, go into metrics.json under `judge_agreement`: a judge that accepts
paraphrases says 1 where exact recall says 0, and that is where to look.
"""

from __future__ import annotations

import re
from dataclasses import asdict

from rich.console import Console

from lexitune.config import JudgeConfig
from lexitune.llm.client import LLMClient, Request
from lexitune.llm.extract import extract_json

SYSTEM = (
    "You grade answers for a glossary quiz. Reply with JSON only: "
    '{"verdict": 1 or 0, "explanation": "one short sentence"}.'
)
RUBRIC = (
    "A user asked a question about a term; the expected definition is given. Give verdict 1 if the answer "
    "gives the expected meaning (the wording may differ, extra words are fine), and verdict 0 if it gives "
    "another meaning, no meaning, or refuses. Then explain in one short sentence.\n\n"
    "Question: {question}\nExpected definition: {expected}\nAnswer: {answer}"
)
SCHEMA = {
    "type": "object",
    "properties": {"verdict": {"type": "integer", "enum": [0, 1]}, "explanation": {"type": "string"}},
    "required": ["verdict", "explanation"],
    "additionalProperties": False,
}
_LOOSE_VERDICT = re.compile(r"verdict\W{0,5}([01])\b", re.IGNORECASE)
DISAGREEMENTS_KEPT = 50  # per side: enough to read, not enough to bloat metrics.json


def request(question: str, expected: str, answer: str, cfg: JudgeConfig) -> Request:
    answer = answer if len(answer) <= cfg.max_answer_chars else answer[: cfg.max_answer_chars] + "…"
    text = RUBRIC.format(question=question, expected=expected, answer=answer)
    return Request(
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}], schema=SCHEMA, schema_name="verdict"
    )


def parse(text: str | None) -> tuple[int | None, str]:
    """(verdict, explanation) from the judge's reply; verdict None when the reply gives none."""
    value = extract_json(text)
    if isinstance(value, dict) and str(value.get("verdict")).strip() in ("0", "1", "True", "False"):
        verdict = value["verdict"]
        verdict = int(verdict) if not isinstance(verdict, str) else int(verdict in ("1", "True"))
        return verdict, str(value.get("explanation", "")).strip()
    match = _LOOSE_VERDICT.search(text or "")
    if match:  # "Verdict: 1. The answer ..." from a model that ignored the JSON request
        return int(match.group(1)), (text or "").strip()[:500]
    return None, f"no verdict in the judge's reply: {(text or '')[:200]!r}"


def judge(
    questions: list[str], expected: list[str], answers: list[str], client: LLMClient, cfg: JudgeConfig, description: str
) -> list[tuple[int | None, str]]:
    """One (verdict, explanation) per answer; a request that failed after retries gives (None, reason)."""
    replies = client.run(
        [request(q, e, a, cfg) for q, e, a in zip(questions, expected, answers, strict=True)], description
    )
    return [(None, f"judge error: {r.error}") if r.error else parse(r.text) for r in replies]


def add_verdicts(rows: list[dict], verdicts: list[tuple[int | None, str]]) -> None:
    """Per-answer score rows get `judge` (averaged by summarize) and `judge_explanation`."""
    for row, (verdict, explanation) in zip(rows, verdicts, strict=True):
        row["judge"] = verdict
        row["judge_explanation"] = explanation


def agreement(rows: list[dict], questions: list[dict], answers: list[str]) -> dict:
    """How often the judge's verdict equals exact recall's, and the answers where they differ."""
    judged = [i for i, r in enumerate(rows) if r.get("judge") is not None]
    disagreements = [
        {
            **questions[i],
            "answer": answers[i],
            "exact": bool(rows[i]["exact"]),
            "judge": rows[i]["judge"],
            "explanation": rows[i]["judge_explanation"],
        }
        for i in judged
        if int(bool(rows[i]["exact"])) != rows[i]["judge"]
    ]
    return {
        "judged": len(judged),
        "unjudged": len(rows) - len(judged),
        "agreement": round(1 - len(disagreements) / len(judged), 4) if judged else None,
        "judge_yes_exact_no": sum(d["judge"] == 1 for d in disagreements),
        "judge_no_exact_yes": sum(d["judge"] == 0 for d in disagreements),
        "disagreements": disagreements[:DISAGREEMENTS_KEPT],
    }


def judge_sides(
    cfg: JudgeConfig, questions: list[dict], sides: dict[str, tuple[list[str], list[dict]]], console: Console
) -> dict:
    """Judge each side's answers; its score rows gain `judge`. Returns metrics.json's `judge_agreement`.

    `questions`: {term, style, question, expected} per held-out question; `sides`: {"before": (answers,
    score rows), "after": ...}.
    """
    client = LLMClient(cfg, "eval.judge", console)
    out: dict = {"model": cfg.model}
    for side, (answers, rows) in sides.items():
        verdicts = judge(
            [q["question"] for q in questions],
            [q["expected"] for q in questions],
            answers,
            client,
            cfg,
            f"judging {side}",
        )
        add_verdicts(rows, verdicts)
        out[side] = agreement(rows, questions, answers)
    out["usage"] = asdict(client.usage)
    console.print(f"judge usage: {client.usage.line()}", highlight=False)
    return out
