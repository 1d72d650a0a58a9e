"""Find the JSON in an LLM's reply, even when it comes wrapped in prose or a Markdown code fence.

    python -c "from lexitune.llm.extract import extract_json; print(extract_json('Sure! ```json\n{\"verdict\": 1}\n``` Hope it helps.'))"

Servers without structured output (or models that ignore it) answer "Here are the conversations:"
followed by JSON, or Python-style lists with single quotes as in the course's prompt. We take the
first complete JSON value that parses, preferring a fenced block, then the longest value found.
"""

from __future__ import annotations

import ast
import json
import re

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


def _values(text: str) -> list[object]:
    """Every JSON object or array that parses, starting at each '{' or '['."""
    decoder = json.JSONDecoder()
    found, i = [], 0
    while True:
        starts = [p for p in (text.find("{", i), text.find("[", i)) if p >= 0]
        if not starts:
            return found
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
            found.append((end - start, value))
            i = end
        except json.JSONDecodeError:
            i = start + 1


def _python_literal(text: str) -> object | None:
    """The course's prompt shows single-quoted lists; some models copy that style."""
    start = min([p for p in (text.find("{"), text.find("[")) if p >= 0], default=-1)
    end = max(text.rfind("}"), text.rfind("]"))
    if start < 0 or end <= start:
        return None
    try:
        value = ast.literal_eval(text[start : end + 1])
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return value if isinstance(value, (list, dict)) else None


def extract_json(text: str | None) -> object | None:
    """The JSON value in `text`, or None when there is none."""
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for block in _FENCE.findall(text):
        try:
            return json.loads(block)
        except json.JSONDecodeError:
            continue
    found = _values(text)
    if found:
        return max(found, key=lambda pair: pair[0])[1]
    return _python_literal(text)
