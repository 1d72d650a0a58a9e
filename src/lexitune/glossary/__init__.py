"""Load a glossary file (JSON, JSONL, CSV/TSV, YAML, SKOS RDF/XML or Turtle, XML) into a list of `Term`s.

Each format is one module with a `load(path, options)` function, registered below by extension; adding a
format is one new file and one line in `LOADERS`. After loading, every format gets the same cleaning
(whitespace, empty fields) and the same duplicate policy.

    python -c "from lexitune.glossary import load_glossary; print(load_glossary('examples/culinary-fr/glossary.json')[0])"
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from lexitune.config import GlossaryConfig
from lexitune.errors import LexituneError
from lexitune.glossary import csv_, json_, jsonl, skos, xml_, yaml_
from lexitune.glossary.base import Loader, LoadOptions
from lexitune.glossary.term import Term

__all__ = ["LOADERS", "Term", "load_from_config", "load_glossary"]

log = logging.getLogger(__name__)

# Extension (or `glossary.format` value) → loader.
LOADERS: dict[str, Loader] = {
    "json": json_.load,
    "jsonl": jsonl.load,
    "ndjson": jsonl.load,
    "csv": csv_.load,
    "tsv": csv_.load,
    "yaml": yaml_.load,
    "yml": yaml_.load,
    "rdf": skos.load,
    "owl": skos.load,
    "skos": skos.load,
    "ttl": skos.load,
    "turtle": skos.load,
    "xml": xml_.load,
}

Duplicates = Literal["error", "first", "senses"]


def load_glossary(
    path: str | Path,
    format: str = "auto",
    *,
    term_column: str | None = None,
    definition_column: str | None = None,
    duplicates: Duplicates = "error",
    tolerant: bool = False,
    language: str | None = None,
) -> list[Term]:
    """Read a glossary file; raise `LexituneError` naming the file and line of anything wrong in it.

    `duplicates` decides what a term given twice with different definitions becomes: an error, the first
    definition only, or one term whose `senses` hold the other definitions. The same term with the same
    definition is always merged. `language` picks among SKOS labels in several languages.
    """
    path = Path(path)
    fmt = _format_of(path, format)
    if not path.exists():
        raise LexituneError(f"{path}: no such file")
    if path.is_dir():
        raise LexituneError(f"{path}: is a directory, expected a glossary file")
    options = LoadOptions(fmt, term_column, definition_column, tolerant, language)
    try:
        terms = [_clean(t) for t in LOADERS[fmt](path, options)]
    except RecursionError:  # json, yaml and rdflib all recurse on nesting
        raise LexituneError(f"{path}: nested too deeply to read") from None
    if not terms:
        raise LexituneError(f"{path}: the glossary has no entries")
    return _merge_duplicates(terms, duplicates)


def load_from_config(cfg: GlossaryConfig) -> list[Term]:
    """`load_glossary` with the settings of the config's `glossary` section."""
    if cfg.path is None:
        raise LexituneError("glossary.path is not set: give the glossary file to learn")
    return load_glossary(
        cfg.path,
        cfg.format,
        term_column=cfg.term_column,
        definition_column=cfg.definition_column,
        duplicates=cfg.duplicates,
        tolerant=cfg.tolerant,
        language=cfg.language,
    )


def _format_of(path: Path, format: str) -> str:
    supported = ", ".join(sorted(LOADERS))
    if format != "auto":
        if format.lower() not in LOADERS:
            raise LexituneError(f"glossary.format: unknown format {format!r} (supported: {supported})")
        return format.lower()
    ext = path.suffix.lower().lstrip(".")
    if ext not in LOADERS:
        raise LexituneError(
            f"{path}: unknown glossary extension {path.suffix or '(none)'!r} "
            f"(supported: {supported}); rename the file or set glossary.format"
        )
    return ext


def _squash(text: str) -> str:
    # Definitions spread over several lines (XML, folded YAML) are layout, not content.
    return " ".join(text.split())


def _clean(term: Term) -> Term:
    name, definition = _squash(term.term), _squash(term.definition)
    if not name:
        raise LexituneError(f"{term.source}: entry has no term")
    if not definition:
        raise LexituneError(f"{term.source}: entry {name!r} has no definition")
    aliases = [a for a in dict.fromkeys(_squash(a) for a in term.aliases) if a and a != name]
    # An empty sense is dropped together with its context, so contexts stay aligned with senses.
    senses = [(_squash(s), _squash(term.context_of(i))) for i, s in enumerate(term.senses, start=1)]
    senses = [(s, c) for s, c in senses if s]
    contexts = [_squash(term.context_of(0))] + [c for _, c in senses]
    return term.model_copy(
        update={
            "term": name,
            "definition": definition,
            "senses": [s for s, _ in senses],
            "contexts": _trimmed(contexts),
            "aliases": aliases,
            "related": [r for r in dict.fromkeys(_squash(r) for r in term.related) if r],
            "extra": {k: v.strip() for k, v in term.extra.items() if v.strip()},
        }
    )


def _trimmed(contexts: list[str]) -> list[str]:
    """Contexts without the trailing empty ones (a missing entry already means none)."""
    while contexts and not contexts[-1]:
        contexts = contexts[:-1]
    return contexts


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _merge_duplicates(terms: list[Term], duplicates: Duplicates) -> list[Term]:
    # Case matters: `Defra` and `DEFRA` could be different entries, so only identical spellings merge.
    merged: dict[str, Term] = {}
    for term in terms:
        first = merged.get(term.term)
        if first is None:
            merged[term.term] = term
            continue
        new = [
            (d, term.context_of(i))
            for i, d in enumerate(term.definitions)
            if not any(_same(d, known) for known in first.definitions)
        ]
        if new and duplicates == "error":
            raise LexituneError(
                f"{term.term!r} is defined twice with different definitions ({first.source} and {term.source}); "
                "set glossary.duplicates: senses to keep both, or first to keep the first"
            )
        if new and duplicates == "first":
            log.warning(
                "%s: %r already defined at %s; keeping the first definition", term.source, term.term, first.source
            )
            continue
        merged[term.term] = _union(first, term, new)
    return list(merged.values())


def _union(first: Term, other: Term, new_senses: list[tuple[str, str]]) -> Term:
    contexts = [first.context_of(i) for i in range(len(first.definitions))] + [c for _, c in new_senses]
    return first.model_copy(
        update={
            "senses": first.senses + [d for d, _ in new_senses],
            "contexts": _trimmed(contexts),
            "aliases": [a for a in dict.fromkeys(first.aliases + other.aliases) if a != first.term],
            "related": list(dict.fromkeys(first.related + other.related)),
            "extra": {**other.extra, **first.extra},
        }
    )
