"""JSON Lines glossaries: one object a line, with the same keys as the JSON format (acronym/term, definition/meaning…).

Blank lines are skipped; each term's source is the file and its exact line.

    printf '{"acronym": "TEC", "definition": "Techniques Élémentaires et Culinaires"}\\n' > /tmp/g.jsonl
    python -c "from lexitune.glossary import load_glossary as g; print(g('/tmp/g.jsonl'))"
"""

from __future__ import annotations

import json
from pathlib import Path

from lexitune.errors import LexituneError
from lexitune.glossary.base import LoadOptions, read_text, term_from_mapping
from lexitune.glossary.term import Term


def load(path: Path, options: LoadOptions) -> list[Term]:
    text = read_text(path)
    return [_term(path, number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def _term(path: Path, number: int, line: str) -> Term:
    source = f"{path}:{number}"
    try:
        value = json.loads(line)
    except json.JSONDecodeError as e:
        raise LexituneError(f"{source}: malformed JSON: {e.msg} (column {e.colno})") from None
    except ValueError as e:  # e.g. an integer longer than Python converts (4300 digits)
        raise LexituneError(f"{source}: JSON value cannot be read: {e}") from None
    if not isinstance(value, dict):
        raise LexituneError(f'{source}: expected one object a line, like {{"acronym": ..., "definition": ...}}')
    return term_from_mapping(value, source)
