"""CSV/TSV loader: header, column choice, optional columns, exact line numbers, delimiter."""

from pathlib import Path

import pytest

from lexitune.errors import LexituneError
from lexitune.glossary import load_glossary

FIXTURES = Path(__file__).parents[1] / "fixtures"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_first_two_columns_by_default_and_exact_lines(tmp_path):
    text = 'acro,expansion,aliases,related,context,url\nTEC,Techniques,T;tech,PER,kitchen,https://t.example\n\nPER,"Purée,\nÉpice",,,,\n'
    path = write(tmp_path / "g.csv", text)
    tec, per = load_glossary(path)
    assert (tec.term, tec.definition, tec.aliases, tec.related) == ("TEC", "Techniques", ["T", "tech"], ["PER"])
    assert tec.extra == {"url": "https://t.example"} and tec.contexts == ["kitchen"]
    assert (per.definition, per.source) == ("Purée, Épice", f"{path}:4")
    assert tec.source == f"{path}:2"


def test_named_columns_case_insensitive(tmp_path):
    path = write(tmp_path / "g.csv", "id,Meaning,Acronym\n1,Techniques,TEC\n")
    [term] = load_glossary(path, term_column="acronym", definition_column="Meaning")
    assert (term.term, term.definition, term.extra) == ("TEC", "Techniques", {"id": "1"})


def test_unknown_column_lists_header(tmp_path):
    path = write(tmp_path / "g.csv", "id,Meaning,Acronym\n1,Techniques,TEC\n")
    with pytest.raises(
        LexituneError, match=r"g\.csv:1: glossary.term_column 'term' is not a column \(columns: id, Meaning, Acronym\)"
    ):
        load_glossary(path, term_column="term")


def test_tsv_and_sniffed_semicolons(tmp_path):
    [tsv] = load_glossary(write(tmp_path / "g.tsv", "term\tdefinition\nTEC\tTechniques, Culinaires\n"))
    [semi] = load_glossary(write(tmp_path / "g.csv", "term;definition\nTEC;Techniques, Culinaires\n"))
    assert tsv.definition == semi.definition == "Techniques, Culinaires"


def test_empty_definition_names_line(tmp_path):
    path = write(tmp_path / "g.csv", "term,definition\nPER,Purée\nTEC,\n")
    with pytest.raises(LexituneError, match=r"g\.csv:3: entry 'TEC' has no definition"):
        load_glossary(path)


def test_unquoted_delimiter_in_definition(tmp_path):
    path = write(tmp_path / "g.csv", "term,definition\nBEIS,Department of Business, Energy and Industrial Strategy\n")
    with pytest.raises(LexituneError, match=r"g\.csv:2: 3 fields but the header has 2; quote fields that contain ','"):
        load_glossary(path)


def test_malformed_csv_names_line(tmp_path):
    path = write(tmp_path / "g.csv", 'term,definition\nPER,Purée\nTEC,"Techniques\nSAL,Savoir\nFUN,Fusion\n')
    with pytest.raises(
        LexituneError, match=r"g\.csv:3: malformed CSV in the row starting on this line: unexpected end of data"
    ):
        load_glossary(path)


def test_single_column_header(tmp_path):
    with pytest.raises(LexituneError, match=r"g\.csv:1: the header needs at least two columns"):
        load_glossary(write(tmp_path / "g.csv", "term\nTEC\n"))


def test_fixture_with_50_terms():
    terms = load_glossary(FIXTURES / "glossary50.csv")
    assert len(terms) == 50
    assert len({t.term for t in terms}) == 50
    assert (terms[0].term, terms[0].definition) == ("QVDI", "Quarterly Vendor Drift Index")
    assert terms[-1].source.endswith("glossary50.csv:51")
