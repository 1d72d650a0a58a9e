"""Keep the best trainable weights seen so far, by a score, and put them back at the end.

One mechanism for the two callbacks that choose a checkpoint: the learning curve (held-out recall,
`train.early_stopping_patience`) and selection (recall, retention and abstention on a validation
set, `experimental.select`). Only trainable weights are copied: a LoRA adapter is a few MB.

    python -c "from lexitune.train.best import BestWeights"
"""

from __future__ import annotations

import torch


class BestWeights:
    def __init__(self, model=None, patience: int = 0, keep: bool = True):
        self.model, self.patience, self.keep = model, patience, keep
        self.score: float | None = None
        self.step = 0
        self.since_best = 0
        self._weights: dict[str, torch.Tensor] | None = None

    def offer(self, score: float, step: int) -> bool:
        """Record a score at `step`; True when it beats the best (its weights are then kept)."""
        if self.score is not None and score <= self.score:
            self.since_best += 1
            return False
        self.score, self.step, self.since_best = score, step, 0
        if self.keep and self.model is not None:
            self._weights = {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}
        return True

    @property
    def exhausted(self) -> bool:
        """The patience ran out: `patience` scores in a row without improvement (never with 0)."""
        return bool(self.patience) and self.since_best >= self.patience

    def restore(self, last_step: int) -> bool:
        """Put the best weights back unless the last step is the best; True if anything changed."""
        if self._weights is None or self.step == last_step:
            return False
        with torch.no_grad():
            for name, param in self.model.named_parameters():
                if name in self._weights:
                    param.copy_(self._weights[name])
        return True
