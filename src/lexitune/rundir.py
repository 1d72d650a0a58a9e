"""The run folder contract (DESIGN.md): where each stage reads and writes, and how to reopen a run.

A run folder describes itself: `eval`, `chat`, `serve` and `export` need nothing but its path.

    python -c "from lexitune.rundir import RunDir; print(RunDir('runs/culinary').adapter)"
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lexitune.config import Config, load_config
from lexitune.errors import LexituneError


@dataclass(frozen=True)
class RunDir:
    root: Path

    def __init__(self, root: Path | str):
        object.__setattr__(self, "root", Path(root))

    config = property(lambda self: self.root / "config.yaml")
    data = property(lambda self: self.root / "data")
    train_data = property(lambda self: self.root / "data" / "train.jsonl")
    test_data = property(lambda self: self.root / "data" / "test.jsonl")
    glossary = property(lambda self: self.root / "data" / "glossary.json")
    generation_report = property(lambda self: self.root / "data" / "generation.json")
    checkpoints = property(lambda self: self.root / "checkpoints")
    adapter = property(lambda self: self.root / "adapter")
    full_model = property(lambda self: self.root / "model")
    answers = property(lambda self: self.root / "answers.jsonl")
    before_cache = property(lambda self: self.root / "eval" / "before.json")
    metrics = property(lambda self: self.root / "metrics.json")
    train_result = property(lambda self: self.root / "train.json")
    train_log = property(lambda self: self.root / "train_log.jsonl")
    report = property(lambda self: self.root / "report.html")
    curve = property(lambda self: self.root / "curve.jsonl")
    tracking = property(lambda self: self.root / "tracking.json")

    def load_config(self) -> Config:
        if not self.config.exists():
            raise LexituneError(f"{self.root}: not a lexitune run folder (no config.yaml)")
        return load_config(self.config)

    def trained_weights(self) -> Path:
        for path in (self.adapter, self.full_model):
            if (path / "config.json").exists() or (path / "adapter_config.json").exists():
                return path
        raise LexituneError(f"{self.root}: no trained model yet (run `lexitune train` first)")


def default_run_dir(name: str, base: Path = Path("runs")) -> Path:
    return base / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def write_json(path: Path, data) -> None:
    """Atomic write: a crash mid-write never leaves a truncated metrics or result file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))
