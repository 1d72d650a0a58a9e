"""Score a set of answers against the held-out conversations, per answer and in summary.

python -c "from lexitune.evaluate.scoring import score, summarize"
"""

from __future__ import annotations

from lexitune.evaluate.metrics import FUZZY_THRESHOLD, EmbeddingScorer, contains_definition, fuzzy_score
from lexitune.generate.dataset import Conversation
from lexitune.glossary.term import Term


def expected_definition(conversation: Conversation, terms: dict[str, Term]) -> str:
    """The definition an answer must contain: the sense the question asks for, else the glossary's
    definition, else the reference answer's text."""
    if conversation.expected:
        return conversation.expected
    term = terms.get(conversation.term)
    return term.definition if term else conversation.answer


def score(
    answers: list[str], expected: list[str], scorer: EmbeddingScorer | None
) -> list[dict[str, float | bool | None]]:
    similarities = scorer.similarity(answers, expected) if scorer and answers else [None] * len(answers)
    return [
        {"exact": contains_definition(a, e), "fuzzy": fuzzy_score(a, e) >= FUZZY_THRESHOLD, "similarity": s}
        for a, e, s in zip(answers, expected, similarities, strict=True)
    ]


def _mean(values: list) -> float | None:
    values = [float(v) for v in values if v is not None]
    return round(sum(values) / len(values), 4) if values else None


def summarize(rows: list[dict]) -> dict[str, float | None]:
    """The metrics.json block for one side (before or after)."""
    return {
        "exact_recall": _mean([r["exact"] for r in rows]),
        "fuzzy_recall": _mean([r["fuzzy"] for r in rows]),
        "embedding_similarity": _mean([r["similarity"] for r in rows]),
        "judge_accuracy": _mean([r.get("judge") for r in rows]),
    }
