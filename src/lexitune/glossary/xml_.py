"""XML glossaries: the course's nested SKOS-like form and a plain form (an .xml file holding RDF goes to `skos`).

Course form: `<data skos:Concept="…" uri="…">` entries holding `skos:prefLabel`, `skos:altLabel` and, possibly
several `<data>` levels down, `skos:definition`, `<skos:related rdf:resource="…"/>` and `<link value="url"/>`.
Plain form: `<glossary><term><prefLabel/><altLabel/><definition/><related/><url/></term></glossary>`.
Prefixes like `skos:` may be used without being declared, and the root element may be missing.

The course's own example is not well-formed (unclosed `related` and `link`): by default that is an error
naming the line; with `glossary.tolerant: true` lxml recovers what it can, and entries that still have a
label and a definition are kept (the others are skipped with a logged warning).

    python -c "from lexitune.glossary import load_glossary as g; print(g('examples/course-xml/glossary.xml', tolerant=True))"
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from lxml import etree

from lexitune.errors import LexituneError
from lexitune.glossary import skos
from lexitune.glossary.base import LoadOptions, read_text
from lexitune.glossary.term import Term

log = logging.getLogger(__name__)

NAMESPACES = {"skos": "http://www.w3.org/2004/02/skos/core#", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
# Element (local name, any case) → field. A leaf <term> is a label; a <term> with children is an entry.
FIELDS = {
    **dict.fromkeys(("preflabel", "label", "term", "acronym", "name", "notation"), "label"),
    **dict.fromkeys(("altlabel", "alias"), "alias"),
    "definition": "definition",
    **dict.fromkeys(("related", "broader"), "related"),
    **dict.fromkeys(("url", "link", "website"), "url"),
    "scopenote": "scope_note",
}
ENTRY_TAGS = ("term", "entry", "concept")
_WRAPPER = "lexitune-glossary"
_RDF_ROOT = re.compile(r"<(?:[\w.-]+:)?RDF[\s>]")
_DECLARATION = re.compile(r"^<\?xml[^>]*\?>")
_PREFIX_USE = re.compile(r"</?([A-Za-z_][\w.-]*):[A-Za-z_]|\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*=")
_LINE_SUFFIX = re.compile(r", line \d+, column \d+$")
_NEVER_CLOSED = re.compile(rf"Opening and ending tag mismatch: (\S+) line (\d+) and {_WRAPPER}")


def load(path: Path, options: LoadOptions) -> list[Term]:
    text = read_text(path)
    if _RDF_ROOT.search(text):
        return skos.load(path, replace(options, format="rdf"))
    root = _parse(path, text, options.tolerant)
    terms = (_term(path, el, options.tolerant) for el in root.iter() if _is_entry(el))
    return [t for t in terms if t is not None]


def _parse(path: Path, text: str, tolerant: bool) -> etree._Element:
    parser = etree.XMLParser(recover=tolerant, encoding="utf-8", resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(_wrap(text).encode("utf-8"), parser)
    except etree.XMLSyntaxError as e:
        # An element left open shows up as a mismatch with the wrapper, which the user never wrote.
        reason = _NEVER_CLOSED.sub(r"<\1> opened on line \2 is never closed", _LINE_SUFFIX.sub("", e.msg))
        raise LexituneError(
            f"{path}:{e.lineno}: XML is not well-formed: {reason}; "
            "fix it, or set glossary.tolerant: true to read what can be recovered"
        ) from None
    if root is None:
        raise LexituneError(f"{path}: no XML element could be read")
    if parser.error_log:
        first = parser.error_log[0]
        log.warning(
            "%s: not well-formed XML (%d problems, first at line %d: %s); reading what could be recovered",
            path, len(parser.error_log), first.line, first.message,
        )  # fmt: skip
    return root


def _wrap(text: str) -> str:
    """The text inside one root element that declares every prefix the file uses without declaring it."""
    # The wrapper adds no line break, so lxml's line numbers stay those of the file.
    text = _DECLARATION.sub("", text, count=1)
    if "<!DOCTYPE" in text:
        return text
    declared = set(re.findall(r"xmlns:([\w.-]+)\s*=", text))
    used = {p for pair in _PREFIX_USE.findall(text) for p in pair if p} - declared - {"xml", "xmlns"}
    namespaces = "".join(f' xmlns:{p}="{NAMESPACES.get(p, f"urn:lexitune:undeclared:{p}")}"' for p in sorted(used))
    return f"<{_WRAPPER}{namespaces}>{text}</{_WRAPPER}>"


def _local(name: str) -> str:
    """`{ns}prefLabel`, `skos:prefLabel` (undeclared prefix, recovered) or `prefLabel` → `prefLabel`."""
    return name.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _attributes(el: etree._Element) -> dict[str, str]:
    return {_local(str(k)): str(v) for k, v in el.attrib.items()}


def _is_entry(el: etree._Element) -> bool:
    if not isinstance(el.tag, str) or len(el) == 0:
        return False
    attributes = _attributes(el)
    return _local(el.tag).lower() in ENTRY_TAGS or ("Concept" in attributes and "uri" in attributes)


def _own(entry: etree._Element) -> Iterator[etree._Element]:
    """The entry's elements, in document order, leaving out those of entries nested in it."""
    for child in entry:
        if isinstance(child.tag, str) and not _is_entry(child):
            yield child
            yield from _own(child)


def _text(el: etree._Element) -> str:
    # An unclosed element swallows what follows it; leave out known fields so their text is not counted twice.
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and _local(child.tag).lower() not in FIELDS and not _is_entry(child):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts).strip()


def _value(el: etree._Element, field: str) -> str:
    attributes = _attributes(el)
    if field == "related" and "resource" in attributes:
        return skos.uri_name(attributes["resource"])
    if field == "url":
        for name in ("value", "href", "resource"):
            if attributes.get(name):
                return attributes[name]
    return _text(el)


def _term(path: Path, entry: etree._Element, tolerant: bool) -> Term | None:
    found: dict[str, list[str]] = defaultdict(list)
    for el in _own(entry):
        field = FIELDS.get(_local(el.tag).lower())
        if field and (value := _value(el, field)):
            found[field].append(value)
    source, uri = f"{path}:{entry.sourceline}", _attributes(entry).get("uri", "")
    missing = [
        name for name, field in (("label (prefLabel)", "label"), ("definition", "definition")) if not found[field]
    ]
    if missing:
        name = uri or (repr(found["label"][0]) if found["label"] else f"<{_local(entry.tag)}>")
        what = f"entry {name} has no {' and no '.join(missing)}"
        if not tolerant:
            raise LexituneError(f"{source}: {what}")
        log.warning("%s: %s; skipped", source, what)
        return None
    extra = {"url": found["url"][:1], "scope_note": found["scope_note"][:1], "uri": [uri] if uri else []}
    return Term(
        term=found["label"][0],
        definition=found["definition"][0],
        senses=found["definition"][1:],
        aliases=found["alias"],
        related=found["related"],
        source=source,
        extra={k: v[0] for k, v in extra.items() if v},
    )
