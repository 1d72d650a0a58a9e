"""JSON glossaries: the course's list of `{"acronym": ..., "definition": ...}`, or one object `{term: definition}`.

Keys may also be spelled term/name/abbreviation and meaning/expansion (any case), with optional `aliases`,
`related` and `senses`. Each term's source is the file and the line where its entry starts.

    python -c "from lexitune.glossary import load_glossary as g; print(g('examples/culinary-fr/glossary.json'))"
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from lexitune.errors import LexituneError
from lexitune.glossary.base import LoadOptions, read_text, term_from_entry, term_from_mapping
from lexitune.glossary.term import Term

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def load(path: Path, options: LoadOptions) -> list[Term]:
    text = read_text(path)
    try:
        json.loads(text)  # validate first, so the scan below can trust the structure
    except json.JSONDecodeError as e:
        raise LexituneError(f"{path}:{e.lineno}: malformed JSON: {e.msg} (column {e.colno})") from None
    except ValueError as e:  # e.g. an integer longer than Python converts (4300 digits)
        raise LexituneError(f"{path}: JSON value cannot be read: {e}") from None
    terms, line, counted = [], 1, 0
    for offset, key, value in _entries(path, text):  # offsets ascend: count newlines once, not per entry
        line += text.count("\n", counted, offset)
        counted = offset
        terms.append(_term(f"{path}:{line}", key, value))
    return terms


def _entries(path: Path, text: str) -> list[tuple[int, str | None, Any]]:
    """(offset, key, value) of each top-level entry; key is None for a list."""
    # json.loads gives no positions, so walk the top level with raw_decode, which reports where each value ends.
    pos = _skip(text, 0)
    opener = text[pos]
    if opener not in "[{":
        raise LexituneError(
            f'{path}: expected a list of entries like {{"acronym": ..., "definition": ...}} '
            "or an object {term: definition}"
        )
    closer = "]" if opener == "[" else "}"
    pos = _skip(text, pos + 1)
    entries = []
    while text[pos] != closer:
        start, key = pos, None
        if opener == "{":
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _skip(text, _skip(text, pos) + 1)  # past the colon
        value, pos = _DECODER.raw_decode(text, pos)
        entries.append((start, key, value))
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
    return entries


def _skip(text: str, pos: int) -> int:
    return _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]  # the pattern matches the empty string


def _term(source: str, key: str | None, value: Any) -> Term:
    if key is None:
        if not isinstance(value, dict):
            raise LexituneError(f'{source}: expected an object like {{"acronym": ..., "definition": ...}}')
        return term_from_mapping(value, source)
    return term_from_entry(key, value, source)
