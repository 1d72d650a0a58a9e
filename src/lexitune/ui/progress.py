"""Where a run is, read from the files it writes (nothing is asked of the process running it):
the stage, the step out of the total, tokens/s, an ETA, and the loss and recall curves.

The same reading works for a run the UI started, one started in a terminal, and one that a
stopped UI left half done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lexitune.rundir import RunDir, read_json, read_jsonl_log


@dataclass
class Progress:
    stage: str
    step: int = 0
    total_steps: int = 0
    tokens_per_second: float = 0.0
    eta_seconds: float | None = None
    loss: list[tuple[int, float]] = field(default_factory=list)
    recall: list[tuple[int, float]] = field(default_factory=list)
    finished: bool = False
    metrics: dict = field(default_factory=dict)

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return int(100 * self.step / self.total_steps) if self.total_steps else 0


def run_progress(folder: Path | str) -> Progress:
    run = RunDir(folder)
    if run.metrics.exists():
        metrics = read_json(run.metrics)
        progress = Progress("finished", finished=True, metrics=metrics)
    elif run.adapter.exists() or run.full_model.exists():
        progress = Progress("evaluating the tuned model")
    elif run.train_log.exists():
        progress = Progress("training")
    elif run.before_cache.exists():
        progress = Progress("preparing training (probes, replay answers)")
    elif run.train_data.exists():
        progress = Progress("asking the base model the held-out questions (before)")
    elif run.config.exists():
        progress = Progress("writing the conversations")
    else:
        progress = Progress("queued")
    rows = read_jsonl_log(run.train_log) if run.train_log.exists() else []
    if rows:
        last = rows[-1]
        progress.step = int(last["step"])
        progress.total_steps = int(last.get("total_steps") or 0)
        progress.tokens_per_second = float(last.get("tokens_per_second") or 0.0)
        progress.loss = [(int(r["step"]), float(r["loss"])) for r in rows if "loss" in r]
        # `seconds` is the run's training time so far, a resumed run's included (the checkpoint keeps it).
        seconds = float(last.get("seconds") or 0.0)
        if progress.total_steps and progress.step and seconds > 0:
            progress.eta_seconds = (progress.total_steps - progress.step) * seconds / progress.step
    if run.curve.exists():
        progress.recall = [
            (int(r["step"]), float(r["exact_recall"])) for r in read_jsonl_log(run.curve) if "exact_recall" in r
        ]
    return progress


def svg_curve(points: list[tuple[int, float]], *, label: str, width: int = 420, height: int = 140) -> str:
    """A small line chart as inline SVG: no chart library, nothing fetched."""
    pad = 28
    if not points:
        return (
            f'<svg class="curve" role="img" aria-label="{label}: no points yet" width="{width}" height="{height}">'
            f'<text x="{pad}" y="{height // 2}">{label}: no points yet</text></svg>'
        )
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(0.0, min(ys)), max(ys) if max(ys) > 0 else 1.0

    def at(x: float, y: float) -> str:
        px = pad + (x - x0) / (x1 - x0) * (width - 2 * pad)
        py = height - pad - (y - y0) / ((y1 - y0) or 1) * (height - 2 * pad)
        return f"{px:.1f},{py:.1f}"

    line = " ".join(at(x, y) for x, y in points)
    return (
        f'<svg class="curve" role="img" aria-label="{label}" width="{width}" height="{height}">'
        f'<text x="{pad}" y="14">{label} (last {ys[-1]:.3f})</text>'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" class="axis"/>'
        f'<text x="{pad}" y="{height - 8}">step {x0}</text>'
        f'<text x="{width - pad}" y="{height - 8}" text-anchor="end">{x1}</text>'
        f'<polyline fill="none" points="{line}"/></svg>'
    )
