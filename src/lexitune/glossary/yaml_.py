"""YAML glossaries: a list of mappings with the JSON format's keys (acronym/term, definition/meaning, website…),
or one mapping `{term: definition}`.

Values are read exactly as written: plain YAML would turn an acronym like `NO` or `ON` into a boolean and
`1e3` into a number, so the loader builds values from the node tree (which also gives line numbers).

    python -c "from lexitune.glossary import load_glossary as g; print(len(g('examples/uk-public-sector/glossary.yml')))"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from lexitune.errors import LexituneError
from lexitune.glossary.base import LoadOptions, as_text, read_text, term_from_entry, term_from_mapping
from lexitune.glossary.term import Term
from lexitune.safe_yaml import compose

_NULL = "tag:yaml.org,2002:null"


def load(path: Path, options: LoadOptions) -> list[Term]:
    root = compose(read_text(path), str(path))
    if root is None:
        raise LexituneError(f"{path}: the file is empty")
    if isinstance(root, yaml.SequenceNode):
        return [_entry(path, node) for node in root.value]
    if isinstance(root, yaml.MappingNode):
        return [term_from_entry(as_text(_value(k)), _value(v), _where(path, k)) for k, v in root.value]
    raise LexituneError(
        f"{path}: expected a list of entries (- acronym: ...\\n  meaning: ...) or a mapping term: definition"
    )


def _entry(path: Path, node: yaml.Node) -> Term:
    if not isinstance(node, yaml.MappingNode):
        raise LexituneError(f"{_where(path, node)}: expected a mapping like 'acronym: ...' and 'meaning: ...'")
    return term_from_mapping(_value(node), _where(path, node))


def _where(path: Path, node: yaml.Node) -> str:
    return f"{path}:{node.start_mark.line + 1}"


def _value(node: yaml.Node) -> Any:
    """The node as Python data, every scalar kept as the text written (null stays None)."""
    if isinstance(node, yaml.ScalarNode):
        return None if node.tag == _NULL else node.value
    if isinstance(node, yaml.SequenceNode):
        return [_value(n) for n in node.value]
    return {_value(k): _value(v) for k, v in node.value}
