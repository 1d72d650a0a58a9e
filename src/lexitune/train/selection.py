"""Checkpoint selection and early stopping on a held-out score: recall, retention and abstention.

    lexitune run examples/culinary-fr/lexitune.yaml --set experimental.select=true

Recall alone rewards exactly the failure this guards against (a model that answers everything with
a glossary definition). Every `experimental.select_every` steps the model answers a small validation set
that neither training nor the reported metrics use: each term in a training-pool style its own
conversations did not use (or, trained in every style, one decorated with an opener or a
closer), the probe's `val` general questions, and invented acronyms from their own pool. The
score is the mean of the three shares; the best weights are kept and restored at the end, and
`experimental.select_patience` scores without improvement stop training early.
"""

from __future__ import annotations

import random

from lexitune.config import Config
from lexitune.evaluate.metrics import contains_definition
from lexitune.evaluate.probes.decline import is_decline
from lexitune.evaluate.probes.general import load_general
from lexitune.generate.augment import decorate
from lexitune.generate.dataset import Conversation
from lexitune.generate.invented import validation_pool
from lexitune.generate.split import style_pools
from lexitune.generate.templates import QUESTIONS
from lexitune.glossary.term import Term
from lexitune.inference import Answerer
from lexitune.train.best import BestWeights

MAX_TERMS = 12  # validation glossary questions (one per term): enough to rank checkpoints, cheap to ask
MAX_UNKNOWN = 8
MAX_NEW_TOKENS = 32


class Selector:
    """A training-loop callback: scores the model now and then, keeps the best adapter weights."""

    def __init__(
        self, model, tokenizer, config: Config, terms: list[Term], train_set: list[Conversation], total_steps: int
    ):
        self.model, self.tokenizer, self.config = model, tokenizer, config
        self.every = config.experimental.select_every or max(1, total_steps // 4)
        self.total_steps = total_steps
        language = config.generate.language
        pool, _ = style_pools(config.generate)
        used = {(c.term, c.style) for c in train_set}
        self.glossary = []
        rng = random.Random(f"{config.seed}\x00select")
        for i, term in enumerate(terms[:MAX_TERMS]):
            free = [s for s in pool if (term.term, s) not in used]
            question = QUESTIONS[language][free[0] if free else pool[i % len(pool)]].format(term=term.term)
            if not free:  # trained in every style: an opener or a closer makes a phrasing it never saw
                question = decorate(question, language, rng)
            self.glossary.append((question, term.definition))
        self.general = load_general("val")
        self.unknown = [
            QUESTIONS[language][pool[i % len(pool)]].format(term=t)
            for i, t in enumerate(validation_pool(terms, config.seed)[:MAX_UNKNOWN])
        ]
        # LoRA starts as the identity, so the model answers as the base does here.
        self.base_right = [
            q.is_right(a) for a, q in zip(self._ask([q.question for q in self.general]), self.general, strict=True)
        ]
        self.history: list[dict] = []
        self.best: dict | None = None
        self.kept = BestWeights(model, patience=config.experimental.select_patience or 0)

    def _ask(self, questions: list[str]) -> list[str]:
        return Answerer.as_is(self.model, self.tokenizer, self.config, max_new_tokens=MAX_NEW_TOKENS).ask(questions)

    def score(self) -> dict:
        n_g, n_q = len(self.glossary), len(self.general)
        answers = self._ask([q for q, _ in self.glossary] + [q.question for q in self.general] + self.unknown)
        recall = sum(contains_definition(a, d) for a, (_, d) in zip(answers[:n_g], self.glossary, strict=True)) / max(
            1, n_g
        )
        kept = [
            q.is_right(a) for a, q, b in zip(answers[n_g : n_g + n_q], self.general, self.base_right, strict=True) if b
        ]
        retention = sum(kept) / len(kept) if kept else 1.0
        abstention = sum(is_decline(a) for a in answers[n_g + n_q :]) / max(1, len(self.unknown))
        return {
            "recall": round(recall, 4),
            "retention": round(retention, 4),
            "abstention": round(abstention, 4),
            "score": round((recall + retention + abstention) / 3, 4),
        }

    def __call__(self, row: dict) -> bool:
        step = row["step"]
        if step % self.every and step != self.total_steps:
            return False
        result = {"step": step, **self.score()}
        self.history.append(result)
        if self.kept.offer(result["score"], step):
            self.best = result
        return self.kept.exhausted

    def restore_best(self) -> dict:
        """Put the best weights back; returns what selection.json records."""
        last = self.history[-1]["step"] if self.history else 0
        return {"best": self.best, "history": self.history, "restored_best": self.kept.restore(last)}
