"""Where a run's time goes: wall-clock seconds of each stage, written to the run folder as they end.

A first run on the default model spends more time answering with the base model (held-out
questions, probes, replay prompts) than a reader expects from "training takes 6 minutes";
`timings.json` says how much, stage by stage, so a slow run can be explained and sped up where it
is slow. Each `lexitune run` writes its own: a resumed run shows what the resumption cost (cached
stages near zero), not the sum of every attempt.

    python -c "import json; print(json.load(open('runs/culinary/timings.json')))"
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lexitune.rundir import write_json

# Stage names in pipeline order, as `timings.json` and the end-of-run line show them.
LABELS = {
    "data": "data",
    "base_answers": "base model's answers",
    "replay_answers": "replay answers",
    "training": "training",
    "evaluation": "evaluation after",
    "report": "report",
}


class Stopwatch:
    def __init__(self, path: Path | None = None):
        self.path = path
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage `name` (added to it when entered again) and write the file."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - started, 1)
            if self.path is not None:
                write_json(self.path, {**self.seconds, "total": self.total()})

    def total(self) -> float:
        return round(time.perf_counter() - self._started, 1)

    def line(self) -> str:
        parts = [f"{LABELS.get(k, k)} {v:.0f} s" for k, v in self.seconds.items()]
        return f"time: {', '.join(parts)}; {self.total():.0f} s in all"
