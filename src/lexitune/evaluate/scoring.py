"""Score a set of answers against the held-out conversations, per answer and in summary.

python -c "from lexitune.evaluate.scoring import score, summarize"
"""

from __future__ import annotations

import re

from lexitune.evaluate.metrics import FUZZY_THRESHOLD, EmbeddingScorer, contains_definition, fuzzy_score
from lexitune.generate.dataset import Conversation
from lexitune.generate.split import family
from lexitune.glossary.term import Term, mentions


def expected_definition(conversation: Conversation, terms: dict[str, Term]) -> str:
    """What an answer must contain: for a reverse question the term itself; else the sense the
    question asks for, else the glossary's definition, else the reference answer's text."""
    if family(conversation.style) == "reverse":
        return conversation.term
    if conversation.expected:
        return conversation.expected
    term = terms.get(conversation.term)
    return term.definition if term else conversation.answer


def names_term(answer: str, term: Term, terms: list[Term]) -> bool:
    """`reverse_recall`'s test: the answer names the term (or an alias) and no other glossary term.

    Other terms inside the asked term's own definitions do not count ("The acronym for NHS England
    is NHSE" names NHSE, not NHS): those definitions are taken out of the answer first."""
    if not mentions(answer, [term]):
        return False
    rest = answer
    for definition in term.definitions:
        rest = re.sub(re.escape(definition.strip()), " ", rest, flags=re.IGNORECASE)
    return not mentions(rest, [t for t in terms if t.term != term.term])


def score(
    answers: list[str],
    expected: list[str],
    scorer: EmbeddingScorer | None,
    questions: list[Conversation] | None = None,
    terms: list[Term] | None = None,
) -> list[dict[str, float | bool | None]]:
    """Per answer: exact (the definition contained; for a reverse question, the term named), fuzzy, similarity."""
    similarities = scorer.similarity(answers, expected) if scorer and answers else [None] * len(answers)
    by_term = {t.term: t for t in terms or []}
    rows = []
    for i, (a, e, s) in enumerate(zip(answers, expected, similarities, strict=True)):
        question = questions[i] if questions else None
        if question is not None and family(question.style) == "reverse" and question.term in by_term:
            exact = names_term(a, by_term[question.term], terms or [])
            rows.append({"exact": exact, "fuzzy": exact, "similarity": s})
        else:
            rows.append(
                {"exact": contains_definition(a, e), "fuzzy": fuzzy_score(a, e) >= FUZZY_THRESHOLD, "similarity": s}
            )
    return rows


def summarize_families(rows: list[dict], questions: list[Conversation]) -> dict[str, float | None]:
    """The metrics.json block for one side: the held-out questions' metrics, then `reverse_recall`
    and `sealed_recall` (null when no question of that family was asked)."""
    families = [family(q.style) for q in questions]
    block = summarize([r for r, f in zip(rows, families, strict=True) if f == "forward"])
    for name in ("reverse", "sealed"):
        block[f"{name}_recall"] = _mean([r["exact"] for r, f in zip(rows, families, strict=True) if f == name])
    return block


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
