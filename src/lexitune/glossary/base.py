"""What every glossary format shares: the loader interface, reading text, and mapping keys to a `Term`.

A loader is `load(path, options) -> list[Term]`; it reports bad input as `LexituneError` naming the file and
line. Cleaning (whitespace, empty fields) and duplicates are handled once, in `lexitune.glossary`.

    python -c "from lexitune.glossary.base import term_from_mapping as f; print(f({'Acronym': 'TEC', 'meaning': 'x'}, 'f:1'))"
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexitune.errors import LexituneError
from lexitune.glossary.term import Term

# Several spellings are in use for the same field; the first key present wins, the others go to `extra`.
TERM_KEYS = ("term", "acronym", "abbreviation", "name", "preflabel", "label")
DEFINITION_KEYS = ("definition", "meaning", "expansion", "description")
ALIAS_KEYS = ("aliases", "alias", "altlabel", "altlabels")
RELATED_KEYS = ("related", "see_also")
SENSE_KEYS = ("senses",)
# Where a definition applies ("aviation", "finance"): lets a question that names it get that sense.
CONTEXT_KEYS = ("context", "domain", "scope", "scope_note", "scopenote")
URL_KEYS = ("url", "website", "link")
# Commas appear inside names ("Department for Business, Energy…"), so lists in one string use ; or |.
LIST_SEPARATOR = re.compile(r"\s*[;|]\s*")


@dataclass(frozen=True)
class LoadOptions:
    """Settings a loader may need; each format reads only its own."""

    format: str
    term_column: str | None = None
    definition_column: str | None = None
    tolerant: bool = False
    language: str | None = None


Loader = Callable[[Path, LoadOptions], list[Term]]


def read_text(path: Path) -> str:
    """The file as text: UTF-8 (a BOM is fine), not empty; otherwise a `LexituneError` saying where."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise LexituneError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); save the file as UTF-8"
        ) from None
    if not text.strip():
        raise LexituneError(f"{path}: the file is empty")
    return text


def line_of(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


def as_text(value: Any) -> str:
    """A scalar as the user wrote it; None is empty."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def as_list(value: Any) -> list[str]:
    """A list field given as a list, or as one string separated by ; or |."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [as_text(v) for v in value if v is not None]
    return LIST_SEPARATOR.split(as_text(value))


def term_from_mapping(mapping: Mapping[Any, Any], source: str) -> Term:
    """A `Term` from one JSON/JSONL/YAML object, whatever spelling of the keys it uses (case-insensitive)."""
    fields = {as_text(k).strip().lower(): v for k, v in mapping.items()}
    if not any(key in fields for key in TERM_KEYS):
        keys = ", ".join(repr(k) for k in mapping) or "none"
        raise LexituneError(f"{source}: entry has no term (expected a key {'/'.join(TERM_KEYS[:4])}; found {keys})")
    term = _pop_first(fields, TERM_KEYS)
    if not any(key in fields for key in DEFINITION_KEYS):
        raise LexituneError(
            f"{source}: entry {as_text(term)!r} has no definition (expected a key {'/'.join(DEFINITION_KEYS[:3])})"
        )
    definition = _pop_first(fields, DEFINITION_KEYS)
    definitions = as_list(definition) if isinstance(definition, list) else [as_text(definition)]
    url = _pop_first(fields, URL_KEYS)
    context = as_text(_pop_first(fields, CONTEXT_KEYS)).strip()
    extra = {key: _extra_text(v) for key, v in fields.items() if key not in ALIAS_KEYS + RELATED_KEYS + SENSE_KEYS}
    if url is not None:
        extra["url"] = as_text(url)
    return Term(
        term=as_text(term),
        definition=definitions[0] if definitions else "",
        senses=definitions[1:] + _list_field(fields, SENSE_KEYS, split=False),
        aliases=_list_field(fields, ALIAS_KEYS),
        related=_list_field(fields, RELATED_KEYS),
        source=source,
        # One context names where the entry's (first) definition applies; each sense row has its own.
        contexts=[context] if context else [],
        extra={k: v for k, v in extra.items() if v},
    )


def term_from_entry(key: str, value: Any, source: str) -> Term:
    """One `term: value` pair of the mapping form; the value is a definition, a list of senses or an object."""
    if isinstance(value, dict):
        return term_from_mapping({**value, "term": key}, source)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return Term(term=key, definition=value[0] if value else "", senses=value[1:], source=source)
    if value is None or isinstance(value, str | int | float):
        return Term(term=key, definition=as_text(value), source=source)
    raise LexituneError(f"{source}: expected a definition (text) for {key!r}")


def _pop_first(fields: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in fields:
            return fields.pop(key)
    return None


def _list_field(fields: dict[str, Any], keys: tuple[str, ...], split: bool = True) -> list[str]:
    values: list[str] = []
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and not split:
            value = [value]
        values += as_list(value)
    return values


def _extra_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "; ".join(as_text(v) for v in value)
    return "" if isinstance(value, dict) else as_text(value)
