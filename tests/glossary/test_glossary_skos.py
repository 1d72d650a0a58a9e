"""SKOS loader (rdflib): Turtle and RDF/XML, labels, languages, relations, errors."""

from pathlib import Path

import pytest

from lexitune.errors import LexituneError
from lexitune.glossary import load_glossary

PREFIXES = "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n@prefix ex: <http://example.org/> .\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_concept_fields(tmp_path):
    text = (
        PREFIXES
        + """
ex:a a skos:Concept ; skos:prefLabel "AAA"@en ; skos:altLabel "triple a"@en, "a3"@en ;
    skos:definition "First sense"@en, "Second sense"@en ; skos:scopeNote "Only on Mondays"@en ;
    skos:broader ex:b .
ex:b a skos:Concept ; skos:notation "BBB" ; skos:definition "Broader thing" ; skos:related ex:c .
ex:c a skos:Concept ; skos:prefLabel "CCC" ; skos:definition "Unlabelled neighbour" .
"""
    )
    a, b, c = load_glossary(write(tmp_path / "g.ttl", text), duplicates="error")
    assert (a.term, a.definitions, sorted(a.aliases)) == ("AAA", ["First sense", "Second sense"], ["a3", "triple a"])
    assert (a.related, a.extra, a.source) == (["BBB"], {"scope_note": "Only on Mondays"}, "http://example.org/a")
    assert (b.term, b.related) == ("BBB", ["CCC"])


def test_language_choice(tmp_path):
    text = (
        PREFIXES
        + 'ex:a a skos:Concept ; skos:prefLabel "AAA"@en, "AAF"@fr ; skos:definition "Anglais"@en, "Français"@fr .\n'
    )
    path = write(tmp_path / "g.ttl", text)
    [fr] = load_glossary(path, language="fr")
    [en] = load_glossary(path, language="en-GB")
    assert (fr.term, fr.definition, fr.senses) == ("AAF", "Français", [])
    assert (en.term, en.definition, en.senses) == ("AAA", "Anglais", [])
    [default] = load_glossary(path)
    assert default.senses == []  # translations are not senses


def test_related_without_label_uses_uri_name(tmp_path):
    text = (
        PREFIXES
        + 'ex:a a skos:Concept ; skos:prefLabel "AAA" ; skos:definition "x" ; skos:related <http://example.org/#thing> .\n'
    )
    [a] = load_glossary(write(tmp_path / "g.ttl", text))
    assert a.related == ["thing"]


def test_concept_without_definition_names_uri(tmp_path):
    text = PREFIXES + 'ex:a a skos:Concept ; skos:prefLabel "AAA" .\n'
    with pytest.raises(LexituneError, match=r"g\.ttl: concept <http://example.org/a> \(AAA\) has no skos:definition"):
        load_glossary(write(tmp_path / "g.ttl", text))


def test_concept_without_label_names_uri(tmp_path):
    text = PREFIXES + 'ex:a a skos:Concept ; skos:definition "x" .\n'
    with pytest.raises(LexituneError, match=r"concept <http://example.org/a> has no skos:prefLabel or skos:notation"):
        load_glossary(write(tmp_path / "g.ttl", text))


def test_malformed_turtle_names_line(tmp_path):
    text = PREFIXES + 'ex:a a skos:Concept ;\n  skos:prefLabel "AAA"\nex:b a skos:Concept .\n'
    with pytest.raises(LexituneError, match=r"g\.ttl:5: malformed Turtle: expected '\.'"):
        load_glossary(write(tmp_path / "g.ttl", text))


def test_malformed_rdf_xml_names_line(tmp_path):
    text = '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n<rdf:Description>\n</rdf:RDF>\n'
    with pytest.raises(LexituneError, match=r"g\.rdf:4: malformed RDF/XML: mismatched tag"):
        load_glossary(write(tmp_path / "g.rdf", text))


def test_no_concepts(tmp_path):
    with pytest.raises(LexituneError, match=r"no skos:Concept found"):
        load_glossary(write(tmp_path / "g.ttl", PREFIXES + 'ex:a skos:prefLabel "AAA" .\n'))
