"""YAML read without the ways a small file can take all memory or time: configs and glossaries.

PyYAML composes `*alias` references as shared nodes, then expands every one of them when it builds
Python values, so 500 bytes of nested aliases ("billion laughs") become gigabytes. This module
composes the node graph, counts what it would expand to (each shared node counted once per use,
with memoisation, so counting is linear in the file), and refuses a recursive alias or an
expansion far beyond the file's size before anything is built. Nesting too deep for the parser is
refused too. Every refusal is a `LexituneError` naming the file and, where there is one, the line.

    python -c "from lexitune.safe_yaml import load; print(load('a: &x [1, 2]\\nb: *x', 'demo.yaml'))"
"""

from __future__ import annotations

from typing import Any

import yaml

from lexitune.errors import LexituneError

# Nodes a document may expand to: a 100k-entry glossary has about 500k; aliases may add a few
# times the written ones, never orders of magnitude.
MAX_NODES = 2_000_000


def compose(text: str, where: str, max_nodes: int = MAX_NODES) -> yaml.Node | None:
    """The document's node tree, checked: a LexituneError rather than a bomb or a traceback."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise LexituneError(f"{where}{line}: malformed YAML: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise LexituneError(f"{where}: malformed YAML: {e}") from None
    except RecursionError:
        raise LexituneError(f"{where}: YAML nested too deeply to read") from None
    if root is not None:
        written = _expanded_size(root, where, {}, set())
        if written > max_nodes:
            raise LexituneError(
                f"{where}: YAML aliases expand to {written:,} values (limit {max_nodes:,}); write the values out"
            )
    return root


def load(text: str, where: str, max_nodes: int = MAX_NODES) -> Any:
    """`yaml.safe_load`, after `compose`'s checks."""
    root = compose(text, where, max_nodes)
    if root is None:
        return None
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_document(root)
    except yaml.YAMLError as e:
        raise LexituneError(f"{where}: malformed YAML: {e}") from None
    except (RecursionError, ValueError) as e:  # deep nesting; an integer of thousands of digits
        raise LexituneError(f"{where}: YAML value cannot be read: {e}") from None


def _expanded_size(node: yaml.Node, where: str, memo: dict[int, int], open_: set[int]) -> int:
    """Values the node becomes once every alias is expanded; iterative, so depth costs no stack."""
    # Post-order walk with an explicit stack: (node, children pushed?)
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        key = id(current)
        if key in memo:
            continue
        children = _children(current)
        if not expanded:
            if key in open_:
                line = current.start_mark.line + 1
                raise LexituneError(f"{where}:{line}: recursive YAML alias (a value that contains itself)")
            open_.add(key)
            stack.append((current, True))
            stack.extend((child, False) for child in children if id(child) not in memo)
            continue
        open_.discard(key)
        memo[key] = 1 + sum(memo[id(child)] for child in children)
    return memo[id(node)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []
