"""Recipes: named, versioned sets of settings shipped with lexitune, one YAML file each.

A config names one (`recipe: robust`, the default) and lays its own settings over it, so an
example or a user's file says only what is its own (the glossary, the language, the columns).
A recipe may also be a path to a YAML file of the same shape. `lexitune recipes` lists them with
the figures the quality bench measured (`measured.json`, written by `python bench/quality.py`).

    lexitune recipes
    python -c "from lexitune.recipes import load_recipe; print(load_recipe('robust').settings)"
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from lexitune.errors import LexituneError

HERE = Path(__file__).resolve().parent
MEASURED = HERE / "measured.json"


@dataclass(frozen=True)
class Recipe:
    name: str
    version: int
    description: str
    settings: dict = field(default_factory=dict)
    path: Path | None = None


def shipped() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.yaml"))


@lru_cache(maxsize=32)
def _read(path: Path) -> Recipe:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise LexituneError(f"{path}: not a readable recipe ({type(e).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("settings", {}), dict):
        raise LexituneError(f"{path}: a recipe is a mapping with name, version, description and settings")
    for key in ("recipe", "recipe_version"):
        if key in data.get("settings", {}):
            raise LexituneError(f"{path}: settings.{key}: a recipe cannot name another recipe")
    try:
        version = int(data.get("version", 1))
    except (TypeError, ValueError):
        raise LexituneError(f"{path}: version must be a whole number") from None
    return Recipe(
        name=str(data.get("name", path.stem)),
        version=version,
        description=str(data.get("description", "")).strip(),
        settings=data.get("settings") or {},
        path=path,
    )


def load_recipe(name: str) -> Recipe:
    """A shipped recipe by name, or a recipe file by path."""
    if not isinstance(name, str) or not name.strip():
        raise LexituneError("recipe: expected a recipe name (robust, plain) or a recipe file")
    if name in shipped():  # looked up by name, never by building a path from the value
        return _read(HERE / f"{name}.yaml")
    path = Path(name)
    try:
        if path.suffix in (".yaml", ".yml") and path.is_file():
            return _read(path.resolve())
    except OSError:  # a name too long for the file system, say: not a file, then
        pass
    raise LexituneError(f"recipe: {name!r} is neither a shipped recipe ({', '.join(shipped())}) nor a recipe file")


def measured() -> dict:
    """The quality bench's figures per recipe (empty when the bench has not been run)."""
    return json.loads(MEASURED.read_text(encoding="utf-8")) if MEASURED.exists() else {}
