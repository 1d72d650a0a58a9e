"""SKOS thesauri in RDF/XML (.rdf, .owl, .skos, RDF .xml) or Turtle (.ttl), read with rdflib.

Each `skos:Concept` becomes a term: `prefLabel` (in `glossary.language` when there is one, else the first)
or `notation` → term, `altLabel` → aliases, `definition` → definition (several → senses), `related` and
`broader` → related (their labels), `scopeNote` → `extra["scope_note"]`. A term's source is its concept URI.
Values in several languages are translations, not senses: one language is kept (the configured one, else
that of the first tagged value).

    python -c "from lexitune.glossary import load_glossary as g; print(g('examples/skos-en/glossary.ttl')[0])"
"""

from __future__ import annotations

import re
from pathlib import Path

from rdflib import RDF, SKOS, Graph, Literal, URIRef
from rdflib.term import Node

from lexitune.errors import LexituneError
from lexitune.glossary.base import LoadOptions, line_of, read_text
from lexitune.glossary.term import Term

TURTLE_FORMATS = ("ttl", "turtle")


def load(path: Path, options: LoadOptions) -> list[Term]:
    graph = parse(path, read_text(path), "turtle" if options.format in TURTLE_FORMATS else "xml")
    concepts = list(dict.fromkeys(graph.subjects(RDF.type, SKOS.Concept)))
    if not concepts:
        raise LexituneError(f"{path}: no skos:Concept found; is this a SKOS thesaurus?")
    return [_term(path, graph, concept, options.language) for concept in concepts]


_ENTITY = re.compile(r"<!ENTITY", re.IGNORECASE)
_CHAR_REF = re.compile(r"&#(?:x([0-9A-Fa-f]+)|([0-9]+));")
_MARKUP = set("<&>\"'")


def parse(path: Path, text: str, rdf_format: str) -> Graph:
    """The file's RDF graph; a syntax error names the line."""
    if rdf_format == "xml":
        text = _defused(path, text)
    graph = Graph()
    try:
        graph.parse(data=text, format=rdf_format, publicID=path.resolve().as_uri())
    except Exception as e:  # rdflib raises a different exception type per parser
        name = "Turtle" if rdf_format == "turtle" else "RDF/XML"
        raise LexituneError(f"{path}{_line(e)}: malformed {name}: {_reason(e)}") from None
    return graph


def _defused(path: Path, text: str) -> str:
    """RDF/XML without what makes the SAX parser's work explode.

    Entity declarations expand without bound (a 1 KB "billion laughs" took minutes to be refused)
    and no thesaurus needs them. A character reference is one SAX event each, which rdflib joins
    in quadratic time, so the references are decoded here, except those that stand for markup."""
    if match := _ENTITY.search(text):
        raise LexituneError(
            f"{path}:{line_of(text, match.start())}: XML entity declarations are not allowed in a glossary"
        )

    def char(m: re.Match) -> str:
        try:
            c = chr(int(m.group(1), 16) if m.group(1) else int(m.group(2)))
        except (ValueError, OverflowError):
            return m.group(0)  # not a character: the parser reports it with its line
        # Markup characters stay references (decoded they would be markup); so do control
        # characters and newlines, which keep the parser's line numbers right.
        return c if c.isprintable() and c not in _MARKUP else m.group(0)

    return _CHAR_REF.sub(char, text)


def _line(error: Exception) -> str:
    if hasattr(error, "getLineNumber"):  # SAX (RDF/XML)
        return f":{error.getLineNumber()}"
    if len(error.args) == 5 and isinstance(error.args[2], str):  # notation3.BadSyntax(uri, lines, text, offset, why)
        return f":{line_of(error.args[2], error.args[3])}"
    return ""


def _reason(error: Exception) -> str:
    if hasattr(error, "getMessage"):
        return str(error.getMessage())
    if len(error.args) == 5:
        return str(error.args[4])
    return " ".join(str(error).split())


def _term(path: Path, graph: Graph, concept: Node, language: str | None) -> Term:
    term = label(graph, concept, language, fallback=False)
    if not term:
        raise LexituneError(f"{path}: concept <{concept}> has no skos:prefLabel or skos:notation")
    definitions = _in_language(list(graph.objects(concept, SKOS.definition)), language)
    if not definitions:
        raise LexituneError(f"{path}: concept <{concept}> ({term}) has no skos:definition")
    links = [*graph.objects(concept, SKOS.related), *graph.objects(concept, SKOS.broader)]
    notes = _in_language(list(graph.objects(concept, SKOS.scopeNote)), language)
    return Term(
        term=term,
        definition=str(definitions[0]),
        senses=[str(d) for d in definitions[1:]],
        aliases=[str(a) for a in _in_language(list(graph.objects(concept, SKOS.altLabel)), language)],
        related=[label(graph, other, language, fallback=True) for other in links],
        source=str(concept),
        # A concept's scope note says where its definition applies; with several definitions in
        # one concept it cannot tell them apart, so it stays a note.
        contexts=[str(notes[0])] if len(notes) == 1 and len(definitions) == 1 else [],
        extra={"scope_note": " ".join(str(n) for n in notes)} if notes else {},
    )


def label(graph: Graph, node: Node, language: str | None, fallback: bool) -> str:
    """The node's prefLabel in `language` (else untagged, else first), its notation, or its URI's last part."""
    labels = _in_language(list(graph.objects(node, SKOS.prefLabel)), language)
    if labels:
        return str(labels[0])
    notation = graph.value(node, SKOS.notation)
    if notation is not None:
        return str(notation)
    return uri_name(str(node)) if fallback and isinstance(node, URIRef) else ""


def uri_name(uri: str) -> str:
    """The last part of a URI: `http://www.my.com/#research` → `research`."""
    return uri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _in_language(values: list[Node], language: str | None) -> list[Node]:
    """The values in `language` (or untagged); without a language, in the first tagged value's.

    Translations of one definition are not senses, so only one language is kept; when none of the values
    is in the wanted language, all are kept so nothing is lost.
    """
    language = language or next((lang for v in values if (lang := _language_of(v))), None)
    if not language:
        return values
    wanted = [v for v in values if _language_of(v) in (None, language.lower().split("-")[0])]
    return wanted or values


def _language_of(value: Node) -> str | None:
    if isinstance(value, Literal) and value.language:
        return value.language.lower().split("-")[0]
    return None
