"""The learning curve: recall on a fixed sample of held-out questions while training runs.

Every `eval.curve_every` optimiser steps the model as it is answers the same `eval.curve_sample`
held-out questions; exact and fuzzy recall go to `curve.jsonl` and the tracker. With
`train.early_stopping_patience` K, training stops once recall has not beaten its best for K
evaluations, and the best weights are put back at the end: the evidence for choosing epochs and
learning rate, and a way not to pay for epochs that teach nothing.

    lexitune run examples/culinary-fr/lexitune.yaml --set eval.curve_every=5 --set train.early_stopping_patience=3
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable

from lexitune.config import Config
from lexitune.errors import LexituneError
from lexitune.evaluate.scoring import expected_definition, score, summarize
from lexitune.generate.dataset import Conversation
from lexitune.generate.split import family
from lexitune.glossary.term import Term
from lexitune.inference import Answerer
from lexitune.rundir import RunDir
from lexitune.train.best import BestWeights

PointHook = Callable[[int, float], None]  # (step, exact_recall); may raise to abort (a sweep's pruning)


class LearningCurve:
    """A training-loop callback (gets each step's row; returns True to stop early)."""

    def __init__(
        self,
        config: Config,
        run: RunDir,
        tokenizer,
        terms: list[Term],
        test_set: list[Conversation],
        *,
        tracker=None,
        on_point: PointHook | None = None,
        resume: bool = False,
    ):
        self.every, self.patience = config.eval.curve_every, config.train.early_stopping_patience
        self.config = config
        # A fixed sample of forward held-out questions (reverse and sealed ones are scored apart),
        # the same at every point and spread over the terms, so points compare.
        test_set = [c for c in test_set if family(c.style) == "forward"]
        picked = sorted(
            random.Random(config.seed).sample(range(len(test_set)), min(config.eval.curve_sample, len(test_set)))
        )
        by_term = {t.term: t for t in terms}
        self.prompts = [test_set[i].prompt_messages() for i in picked]
        self.expected = [expected_definition(test_set[i], by_term) for i in picked]
        self.tokenizer, self.tracker, self.on_point = tokenizer, tracker, on_point
        self.path = run.curve
        if not resume and self.path.exists():
            self.path.unlink()
        self.model = None
        self.best = BestWeights(patience=self.patience, keep=bool(self.patience))
        self.last_step = 0
        self.last_row: dict | None = None
        self.points: list[dict] = []

    def bind(self, model) -> None:
        """The model being trained (made inside the training stage, after LoRA is attached)."""
        self.model = self.best.model = model

    def __call__(self, row: dict) -> bool:
        self.last_row = row
        if self.every and row["step"] % self.every == 0:
            return self.measure(row)
        return False

    def measure(self, row: dict) -> bool:
        """Answer the sample now; log the point; say whether training should stop."""
        assert self.model is not None, "LearningCurve.bind(model) must be called before training"
        started = time.perf_counter()
        # answer_questions switches to eval mode and back to train mode: dropout stays as it was.
        answers = Answerer.as_is(self.model, self.tokenizer, self.config).answer(self.prompts)
        summary = summarize(score(answers, self.expected, None))
        step = int(row["step"])
        point = {
            "step": step,
            "epoch": row.get("epoch"),
            "loss": row.get("loss"),
            "exact_recall": summary["exact_recall"],
            "fuzzy_recall": summary["fuzzy_recall"],
            "questions": len(answers),
            "seconds": round(time.perf_counter() - started, 2),
        }
        self.last_step = step
        recall = summary["exact_recall"] or 0.0
        self.best.offer(recall, step)
        point["best_exact_recall"] = self.best.score
        self.points.append(point)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(point) + "\n")
        if self.tracker is not None:
            self.tracker.log_metrics(
                {"curve.exact_recall": point["exact_recall"], "curve.fuzzy_recall": point["fuzzy_recall"]}, step=step
            )
        if self.on_point is not None:
            self.on_point(step, recall)
        return self.best.exhausted

    def finish(self) -> dict:
        """After training: a last point at the final step, then the best weights put back."""
        if self.every and self.last_row is not None and self.last_row["step"] != self.last_step:
            self.measure(self.last_row)
        return {
            "best_exact_recall": self.best.score if self.points else None,
            "best_step": self.best.step,
            "points": len(self.points),
            "restored_best": self.best.restore(self.last_step),
        }


def make_curve(
    config: Config, run: RunDir, tokenizer, terms: list[Term], test_set: list[Conversation], **options
) -> LearningCurve | None:
    """The learning curve the config asks for, or None when `eval.curve_every` is 0."""
    if config.train.early_stopping_patience and not config.eval.curve_every:
        raise LexituneError("train.early_stopping_patience needs a learning curve: set eval.curve_every too")
    if not config.eval.curve_every or not test_set:
        return None
    return LearningCurve(config, run, tokenizer, terms, test_set, **options)  # tracker, on_point, resume
