"""Per-sense contexts: a CSV column or a SKOS scopeNote says where each definition applies."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from lexitune.glossary import load_glossary
from lexitune.glossary.term import Term


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_context_column_follows_each_sense(tmp_path):
    path = write(
        tmp_path / "g.csv",
        "term,definition,context\n"
        "AAA,Automobile Association,motoring\n"
        "TEC,Techniques Élémentaires et Culinaires,\n"
        "AAA,Anti-Aircraft Artillery,the military\n"
        "AAA,Authentication Authorization and Accounting,\n",
    )
    aaa, tec = load_glossary(path, duplicates="senses")
    assert aaa.definitions == [
        "Automobile Association",
        "Anti-Aircraft Artillery",
        "Authentication Authorization and Accounting",
    ]
    assert aaa.sense_contexts == [("motoring", "Automobile Association"), ("the military", "Anti-Aircraft Artillery")]
    assert aaa.context_of(2) == ""
    assert tec.contexts == [] and tec.sense_contexts == []


def test_json_domain_key_and_single_sense_term(tmp_path):
    path = write(
        tmp_path / "g.json",
        '[{"acronym": "PR", "definition": "Public Relations", "domain": "marketing"},'
        ' {"acronym": "PR", "definition": "Pull Request", "domain": "software"},'
        ' {"acronym": "GDS", "definition": "Government Digital Service", "domain": "government"}]',
    )
    pr, gds = load_glossary(path, duplicates="senses")
    assert pr.sense_contexts == [("marketing", "Public Relations"), ("software", "Pull Request")]
    # One meaning needs no disambiguation: the context is kept but asks for nothing.
    assert gds.contexts == ["government"] and gds.sense_contexts == []


def test_skos_scope_notes_become_contexts_of_merged_concepts(tmp_path):
    text = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <http://example.org/> .
ex:a1 a skos:Concept ; skos:prefLabel "AAA"@en ; skos:definition "Automobile Association"@en ;
    skos:scopeNote "motoring"@en .
ex:a2 a skos:Concept ; skos:prefLabel "AAA"@en ; skos:definition "Anti-Aircraft Artillery"@en ;
    skos:scopeNote "the military"@en .
"""
    (aaa,) = load_glossary(write(tmp_path / "g.ttl", text), duplicates="senses")
    assert aaa.sense_contexts == [("motoring", "Automobile Association"), ("the military", "Anti-Aircraft Artillery")]


def test_first_keeps_no_context_of_a_dropped_sense(tmp_path):
    path = write(
        tmp_path / "g.csv", "term,definition,context\nAAA,Automobile Association,\nAAA,Anti-Aircraft Artillery,war\n"
    )
    (aaa,) = load_glossary(path, duplicates="first")
    assert aaa.definitions == ["Automobile Association"] and aaa.contexts == []


def test_more_contexts_than_definitions_is_refused():
    with pytest.raises(ValidationError, match="2 contexts for 1 definitions"):
        Term(term="X", definition="x", contexts=["a", "b"])
