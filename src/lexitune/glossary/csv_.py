"""CSV and TSV glossaries: a header line, then one term a row.

The term and definition are the first two columns unless `glossary.term_column` / `definition_column`
name others. Optional columns: `aliases` and `related` (several separated by ; or |), `context`
(or `domain`, `scope`: where this row's definition applies); any other
column is kept in `Term.extra`. TSV is tab-separated; a .csv file may use , ; or tab (read from the header).

    python -c "from lexitune.glossary import load_glossary as g; print(g('examples/invented-en/glossary.csv')[:2])"
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from lexitune.errors import LexituneError
from lexitune.glossary.base import CONTEXT_KEYS, LoadOptions, as_list, read_text
from lexitune.glossary.term import Term


def load(path: Path, options: LoadOptions) -> list[Term]:
    text = read_text(path)
    delimiter = "\t" if options.format == "tsv" else _sniff(text.splitlines()[0])
    (_, header), *rows = _rows(path, text, delimiter)
    header = [h.strip() for h in header]
    term_col = _column(path, header, options.term_column, 0, "term_column")
    definition_col = _column(path, header, options.definition_column, 1, "definition_column")
    return [
        _term(f"{path}:{line}", header, row, term_col, definition_col, delimiter)
        for line, row in rows
        if any(cell.strip() for cell in row)
    ]


def _rows(path: Path, text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Each row with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, end = [], 0
    try:
        for row in reader:
            # line_num counts physical lines, so a quoted field over several lines still gives the row's first line
            rows.append((end + 1, row))
            end = reader.line_num
    except csv.Error as e:
        raise LexituneError(f"{path}:{end + 1}: malformed CSV in the row starting on this line: {e}") from None
    return rows


def _sniff(header: str) -> str:
    # csv.Sniffer guesses wrongly on one short line; the header's most frequent separator is a safer bet.
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _column(path: Path, header: list[str], name: str | None, default: int, setting: str) -> int:
    if name is None:
        if len(header) < 2:
            raise LexituneError(f"{path}:1: the header needs at least two columns (term, definition); found {header}")
        return default
    lowered = [h.lower() for h in header]
    if name in header:
        return header.index(name)
    if name.lower() in lowered:
        return lowered.index(name.lower())
    raise LexituneError(f"{path}:1: glossary.{setting} {name!r} is not a column (columns: {', '.join(header)})")


def _term(source: str, header: list[str], row: list[str], term_col: int, definition_col: int, delimiter: str) -> Term:
    if len(row) > len(header):
        shown = "tab" if delimiter == "\t" else repr(delimiter)
        raise LexituneError(
            f"{source}: {len(row)} fields but the header has {len(header)}; quote fields that contain {shown}"
        )
    term, definition = _cell(row, term_col), _cell(row, definition_col)
    others = {
        h.lower(): v for i, (h, v) in enumerate(zip(header, row, strict=False)) if i not in (term_col, definition_col)
    }
    context = next((others.pop(k) for k in CONTEXT_KEYS if k in others), "").strip()
    return Term(
        term=term,
        definition=definition,
        aliases=as_list(others.pop("aliases", None) or None),
        related=as_list(others.pop("related", None) or None),
        source=source,
        contexts=[context] if context else [],
        extra={k: v for k, v in others.items() if k and v.strip()},
    )


def _cell(row: list[str], index: int) -> str:
    return row[index] if index < len(row) else ""
