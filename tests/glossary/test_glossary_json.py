"""JSON and JSONL loaders: the course's format, other key spellings, the {term: definition} form, line numbers."""

from pathlib import Path

import pytest

from lexitune.errors import LexituneError
from lexitune.glossary import load_glossary


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


COURSE = """[
    {
        "acronym": "PER",
        "definition": "Purée et Épice de la Réussite"
    },
    {"acronym": "TEC", "definition": "Techniques Élémentaires et Culinaires"}, {"acronym": "FUN",
     "definition": "Fusion Universelle de la Nourriture"}
]
"""


def test_course_format_with_exact_lines(tmp_path):
    path = write(tmp_path / "g.json", COURSE)
    terms = load_glossary(path)
    assert [(t.term, t.definition) for t in terms] == [
        ("PER", "Purée et Épice de la Réussite"),
        ("TEC", "Techniques Élémentaires et Culinaires"),
        ("FUN", "Fusion Universelle de la Nourriture"),
    ]
    assert [t.source for t in terms] == [f"{path}:2", f"{path}:6", f"{path}:6"]


def test_other_key_spellings_and_optional_fields(tmp_path):
    text = """[
  {"Term": "A1", "Meaning": "First"},
  {"NAME": "A2", "expansion": "Second", "aliases": "two; deux", "related": ["A1"], "website": "https://a2.example"},
  {"abbreviation": "A3", "definition": "Third", "senses": ["Also third"], "aliases": ["trois"], "context": "ops"}
]"""
    a1, a2, a3 = load_glossary(write(tmp_path / "g.json", text))
    assert (a1.term, a1.definition) == ("A1", "First")
    assert (a2.term, a2.aliases, a2.related, a2.extra) == ("A2", ["two", "deux"], ["A1"], {"url": "https://a2.example"})
    assert (a3.definitions, a3.aliases, a3.contexts) == (["Third", "Also third"], ["trois"], ["ops"])


def test_mapping_form_with_lines(tmp_path):
    text = '{\n  "PER": "Purée et Épice de la Réussite",\n  "TEC": {"definition": "Techniques", "aliases": ["T"]},\n  "SAL": ["Savoir", "Salle"]\n}'
    path = write(tmp_path / "g.json", text)
    per, tec, sal = load_glossary(path, duplicates="senses")
    assert (per.term, per.definition, per.source) == ("PER", "Purée et Épice de la Réussite", f"{path}:2")
    assert (tec.term, tec.aliases, tec.source) == ("TEC", ["T"], f"{path}:3")
    assert sal.definitions == ["Savoir", "Salle"]


def test_malformed_json_names_line(tmp_path):
    path = write(
        tmp_path / "g.json", '[\n {"acronym": "PER", "definition": "x"},\n {"acronym": "TEC" "definition": "y"}\n]'
    )
    with pytest.raises(LexituneError, match=r"g\.json:3: malformed JSON: Expecting ',' delimiter"):
        load_glossary(path)


def test_missing_definition_names_entry_and_line(tmp_path):
    path = write(tmp_path / "g.json", '[\n {"acronym": "PER", "definition": "x"},\n {"acronym": "TEC"}\n]')
    with pytest.raises(LexituneError, match=r"g\.json:3: entry 'TEC' has no definition"):
        load_glossary(path)


def test_missing_term_names_line_and_keys(tmp_path):
    path = write(
        tmp_path / "g.json", '[\n {"acronym": "PER", "definition": "x"},\n {"word": "TEC", "definition": "y"}\n]'
    )
    with pytest.raises(LexituneError, match=r"g\.json:3: entry has no term .*found 'word', 'definition'"):
        load_glossary(path)


def test_entry_that_is_not_an_object(tmp_path):
    with pytest.raises(LexituneError, match=r"g\.json:2: expected an object"):
        load_glossary(write(tmp_path / "g.json", '[\n "PER"\n]'))


def test_jsonl_exact_lines_and_blank_lines(tmp_path):
    text = '{"acronym": "PER", "definition": "Purée"}\n\n{"term": "TEC", "meaning": "Techniques", "aliases": ["T"]}\n'
    path = write(tmp_path / "g.jsonl", text)
    per, tec = load_glossary(path)
    assert (per.source, tec.source) == (f"{path}:1", f"{path}:3")
    assert (tec.term, tec.definition, tec.aliases) == ("TEC", "Techniques", ["T"])


def test_jsonl_malformed_line(tmp_path):
    path = write(tmp_path / "g.jsonl", '{"acronym": "PER", "definition": "Purée"}\n{"acronym": "TEC",\n')
    with pytest.raises(LexituneError, match=r"g\.jsonl:2: malformed JSON"):
        load_glossary(path)


def test_jsonl_empty_definition(tmp_path):
    path = write(
        tmp_path / "g.jsonl", '{"acronym": "PER", "definition": "Purée"}\n{"acronym": "TEC", "definition": ""}\n'
    )
    with pytest.raises(LexituneError, match=r"g\.jsonl:2: entry 'TEC' has no definition"):
        load_glossary(path)
