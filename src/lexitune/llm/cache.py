"""A disk cache of LLM replies keyed by a hash of the request, so a rerun or a resumed run pays nothing.

    python -c "from lexitune.llm.cache import ReplyCache; print(ReplyCache('/tmp/c').key({'model': 'm'}))"

One small JSON file per reply, written to a temporary name and renamed: a run killed mid-write
leaves either the whole reply or nothing, never a truncated file that a resume would trust.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


class ReplyCache:
    def __init__(self, root: Path | str):
        self.root = Path(root)

    @staticmethod
    def key(request: dict) -> str:
        """sha256 of the canonical JSON of everything that shapes the reply (not the URL or the key)."""
        text = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        path = self._path(key)
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None  # a file damaged outside lexitune: ask again rather than fail

    def put(self, key: str, value: dict) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A unique temporary name: concurrent writers of the same key never share a half-written file.
        tmp = path.with_name(f".{key}.{os.getpid()}.{id(value)}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(value, ensure_ascii=False))
            f.flush()
            os.fsync(f.fileno())  # a reply paid for survives a crash: a resumed run does not ask again
        tmp.replace(path)
