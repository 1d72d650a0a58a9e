"""The shipped general-knowledge probe: facts, well-known acronyms, arithmetic, simple instructions.

    python -c "from lexitune.evaluate.probes.general import load_general; print(len(load_general('test')))"

`data/general.jsonl`: one question a line with `language` (fr/en), `kind`, `split` (`test`: reported
as retention; `val`: only used to choose a checkpoint, so the reported figure never chose it) and
`accepted`: normalised substrings, any of which makes the answer right ("paris"; "4", "four").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lexitune.evaluate.metrics import normalize

_GLUED = re.compile(r"(?<=[a-z])(?=[A-Z])")
GENERAL_PATH = Path(__file__).resolve().parent.parent / "data" / "general.jsonl"


@dataclass(frozen=True)
class GeneralQuestion:
    id: str
    language: str
    kind: str
    split: str
    question: str
    accepted: tuple[str, ...]


@lru_cache(maxsize=4)
def _all(path: str) -> tuple[GeneralQuestion, ...]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return tuple(GeneralQuestion(**{**r, "accepted": tuple(r["accepted"])}) for r in rows)


def load_general(split: str = "test", limit: int | None = None, path: Path = GENERAL_PATH) -> list[GeneralQuestion]:
    questions = [q for q in _all(str(path)) if q.split == split]
    return questions[:limit] if limit else questions


def is_correct(answer: str, accepted: tuple[str, ...] | list[str]) -> bool:
    """Right when one accepted answer appears in the normalised answer, on word boundaries.

    A small model sometimes drops the space before a capital ("USB stands forUniversal Serial
    Bus"): a lower-case letter followed by a capital is read as two words."""
    text = f" {normalize(_GLUED.sub(' ', answer))} "
    return any(f" {normalize(a)} " in text for a in accepted if normalize(a))


def retention(before: list[bool], after: list[bool]) -> float | None:
    """Share of the questions the base model got right that the tuned model still gets right."""
    kept = [a for b, a in zip(before, after, strict=True) if b]
    return round(sum(kept) / len(kept), 4) if kept else None
