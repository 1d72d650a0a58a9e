"""The run folder contract (DESIGN.md): where each stage reads and writes, and how to reopen a run.

A run folder describes itself: `eval`, `chat`, `serve` and `export` need nothing but its path.

    python -c "from lexitune.rundir import RunDir; print(RunDir('runs/culinary').adapter)"
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
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
    probes = property(lambda self: self.root / "probes.jsonl")
    probes_routed = property(lambda self: self.root / "probes_routed.jsonl")
    before_cache = property(lambda self: self.root / "eval" / "before.json")
    probes_before_cache = property(lambda self: self.root / "eval" / "probes_before.json")
    selection = property(lambda self: self.root / "selection.json")
    metrics = property(lambda self: self.root / "metrics.json")
    timings = property(lambda self: self.root / "timings.json")
    train_result = property(lambda self: self.root / "train.json")
    train_log = property(lambda self: self.root / "train_log.jsonl")
    report = property(lambda self: self.root / "report.html")
    curve = property(lambda self: self.root / "curve.jsonl")
    tracking = property(lambda self: self.root / "tracking.json")
    trial = property(lambda self: self.root / "trial.json")  # a sweep trial's record

    def replay_cache(self, name: str) -> Path:
        """data/<name>.jsonl: one class of replay conversations, the base model's answers."""
        return self.data / f"{name}.jsonl"

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


def write_text(path: Path, text: str) -> None:
    """Atomic write: a crash mid-write never leaves a truncated file for a later stage to read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def _fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (a file's fsync does not cover its directory entry)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # some systems cannot open a directory; the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sync_tree(root: Path) -> None:
    """fsync every file under `root`, and its folders: what was written is on disk before a rename."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        _fsync_dir(folder)


def replace_dir(new: Path, final: Path) -> None:
    """Put the finished folder `new` at `final`; an old `final` is moved aside first and deleted
    only once the new one is in place, so a crash leaves one complete version or the other."""
    old = final.with_name(f".{final.name}.{os.getpid()}.old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    new.rename(final)
    _fsync_dir(final.parent)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_dir(final: Path) -> Iterator[Path]:
    """A folder written whole or not at all: write into the yielded temporary folder; on success
    it replaces `final`, on any error it is deleted and `final` is left as it was."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
        sync_tree(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_dir(tmp, final)


def read_jsonl_log(path: Path) -> list[dict]:
    """An append-only log's rows; a last line cut short by a crash is dropped, any other bad line
    is an error naming the file and line."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):
                break  # the write the crash interrupted
            raise LexituneError(f"{path}:{number}: not a JSON line") from None
    return rows


def cut_log(path: Path, last_step: int) -> None:
    """On resume, keep a log's rows up to the checkpoint's step: the rows after it are about to be
    written again, and a crash's half line would make the log unreadable."""
    if path.exists():
        write_jsonl(path, [row for row in read_jsonl_log(path) if int(row.get("step", 0)) <= last_step])


def write_json(path: Path, data) -> None:
    write_text(path, json.dumps(data, indent=2, ensure_ascii=False))


def write_jsonl(path: Path, rows: list[dict]) -> None:
    write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def digest(inputs) -> str:
    """A short stable hash of JSON-able inputs: what a cache was made from."""
    text = json.dumps(inputs, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def read_cache(path: Path, inputs):
    """The value cached at `path` when it was made from the same `inputs`, else None (stale or absent)."""
    if not path.exists():
        return None
    try:
        data = read_json(path)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("inputs") != digest(inputs):
        return None
    return data.get("value")


def write_cache(path: Path, inputs, value) -> None:
    """Cache `value` with the digest of the inputs that produced it."""
    write_json(path, {"inputs": digest(inputs), "value": value})
