"""The shipped general-knowledge probe: facts, well-known acronyms, arithmetic, simple instructions.

    python -c "from lexitune.evaluate.probes.general import load_general; print(len(load_general('test')))"

`data/general.jsonl`: one question a line with `language` (fr/en), `kind`, `split` (`test`: reported
as retention; `val`: only used to choose a checkpoint, so the reported figure never chose it) and
`accepted`: normalised substrings, any of which makes the answer right ("paris"; "4", "four");
`case_sensitive: true` where the case is what the question asks for ("in capital letters").

An accepted substring alone would credit answers that name the right words in a wrong answer, and
retention would then count as kept what the model never knew. So an acronym answer is judged by
the expansion it gives, when it says "X stands for ..." (or "is short for", "signifie", ...): 'FAQ
stands for "What's a Favorite Answer?" and is a web page that provides answers to frequently asked
questions' is wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lexitune.evaluate.metrics import normalize

_GLUED = re.compile(r"(?<=[a-z])(?=[A-Z])")
# What an answer claims an acronym expands to: the words after each "stands for" (or its French
# and English kin) up to the end of that sentence.
_EXPANSION = re.compile(
    r"\b(?:stands? for|(?:is )?short for|is an? (?:acronym|abbreviation) (?:for|of)|signifie|veut dire"
    r"|est l['’](?:acronyme|abr[ée]viation) de|est le sigle de)\b(?P<claim>[^.?!;\n]*)",
    re.IGNORECASE,
)
GENERAL_PATH = Path(__file__).resolve().parent.parent / "data" / "general.jsonl"
# The version of how general answers are judged, for figures kept beside their answers (the bench):
# 1 took an accepted phrase anywhere; 2 judges an acronym by the expansion it claims, and the case
# where the question asks for it.
SCORER = 2


@dataclass(frozen=True)
class GeneralQuestion:
    id: str
    language: str
    kind: str
    split: str
    question: str
    accepted: tuple[str, ...]
    case_sensitive: bool = False

    def is_right(self, answer: str) -> bool:
        return is_correct(
            answer,
            self.accepted,
            expansion=self.kind == "acronym",
            question=self.question,
            case_sensitive=self.case_sensitive,
        )


@lru_cache(maxsize=4)
def _all(path: str) -> tuple[GeneralQuestion, ...]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return tuple(GeneralQuestion(**{**r, "accepted": tuple(r["accepted"])}) for r in rows)


def general_question(question_id: str, path: Path = GENERAL_PATH) -> GeneralQuestion:
    """One shipped question by its id ("g28"): how probes.jsonl's rows are judged."""
    found = [q for q in _all(str(path)) if q.id == question_id]
    if not found:
        raise KeyError(f"{path}: no general question with id {question_id!r}")
    return found[0]


def load_general(split: str = "test", limit: int | None = None, path: Path = GENERAL_PATH) -> list[GeneralQuestion]:
    questions = [q for q in _all(str(path)) if q.split == split]
    return questions[:limit] if limit else questions


def is_correct(
    answer: str,
    accepted: tuple[str, ...] | list[str],
    *,
    expansion: bool = False,
    question: str = "",
    case_sensitive: bool = False,
) -> bool:
    """Right when one accepted answer appears in the normalised answer, on word boundaries; with
    `expansion` (an acronym's question), in an expansion the answer claims, when it claims any.

    A small model sometimes drops the space before a capital ("USB stands forUniversal Serial
    Bus"): a lower-case letter followed by a capital is read as two words. An answer that opens by
    repeating the `question` ("Que signifie le sigle ONU ? ...") is judged on what follows it."""
    answer = _GLUED.sub(" ", answer)
    lower = not case_sensitive
    texts = [answer]
    if expansion:
        answer = answer.lstrip().removeprefix(question.strip())
        claims = [m["claim"] for m in _EXPANSION.finditer(answer)]
        texts = [c for c in claims if normalize(c)] or [answer]
    haystacks = [f" {normalize(text, lower)} " for text in texts]
    needles = [f" {n} " for a in accepted if (n := normalize(a, lower))]
    return any(needle in haystack for haystack in haystacks for needle in needles)


def retention(before: list[bool], after: list[bool]) -> float | None:
    """Share of the questions the base model got right that the tuned model still gets right."""
    kept = [a for b, a in zip(before, after, strict=True) if b]
    return round(sum(kept) / len(kept), 4) if kept else None
