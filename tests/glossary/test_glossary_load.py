"""Loading in general: the format registry, file errors every format shares, cleaning and duplicates."""

import logging
from pathlib import Path

import pytest

from lexitune.config import GlossaryConfig
from lexitune.errors import LexituneError
from lexitune.glossary import LOADERS, load_from_config, load_glossary


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_every_extension_has_a_loader():
    assert {"json", "jsonl", "csv", "tsv", "yaml", "yml", "rdf", "ttl", "xml"} <= set(LOADERS)


def test_missing_file(tmp_path):
    with pytest.raises(LexituneError, match=r"nope\.json: no such file"):
        load_glossary(tmp_path / "nope.json")


@pytest.mark.parametrize("name", ["g.json", "g.jsonl", "g.csv", "g.yaml", "g.ttl", "g.xml"])
def test_empty_file(tmp_path, name):
    with pytest.raises(LexituneError, match=rf"{name}: the file is empty"):
        load_glossary(write(tmp_path / name, "  \n"))


@pytest.mark.parametrize(("name", "text"), [("g.json", "[]"), ("g.json", "{}"), ("g.csv", "term,definition\n")])
def test_glossary_without_entries(tmp_path, name, text):
    with pytest.raises(LexituneError, match=r"has no entries"):
        load_glossary(write(tmp_path / name, text))


def test_unknown_extension_lists_supported(tmp_path):
    with pytest.raises(LexituneError, match=r"'\.docx'.*supported: .*csv.*json.*ttl.*glossary.format") as e:
        load_glossary(write(tmp_path / "g.docx", "x"))
    assert "\n" not in str(e.value)


def test_format_overrides_extension(tmp_path):
    path = write(tmp_path / "g.txt", "term\tdefinition\nTEC\tTechniques\n")
    assert load_glossary(path, "tsv")[0].definition == "Techniques"
    with pytest.raises(LexituneError, match=r"unknown format 'docx'"):
        load_glossary(path, "docx")


def test_not_utf8_names_line_and_offset(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes("term,definition\nTEC,Élémentaires\n".encode("latin-1"))
    with pytest.raises(LexituneError, match=r"g\.csv:2: not UTF-8 text \(byte 0xc9 at offset 20\)"):
        load_glossary(path)


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes("\ufeffterm,definition\nTEC,Élémentaires\n".encode())
    [term] = load_glossary(path)
    assert (term.term, term.definition) == ("TEC", "Élémentaires")


def test_whitespace_is_cleaned(tmp_path):
    path = write(
        tmp_path / "g.json",
        '[{"acronym": "  TEC ", "definition": " Techniques\\n  Culinaires ", "aliases": ["T", " ", "TEC"]}]',
    )
    [term] = load_glossary(path)
    assert (term.term, term.definition, term.aliases) == ("TEC", "Techniques Culinaires", ["T"])


def test_empty_definition_names_file_and_line(tmp_path):
    path = write(
        tmp_path / "g.json",
        '[\n {"acronym": "PER", "definition": "Purée"},\n {"acronym": "TEC", "definition": "  "}\n]',
    )
    with pytest.raises(LexituneError, match=r"g\.json:3: entry 'TEC' has no definition"):
        load_glossary(path)


DUPLICATES = """\
- acronym: TEC
  meaning: Techniques Élémentaires et Culinaires
  aliases: [T1]
- acronym: PER
  meaning: Purée et Épice de la Réussite
- acronym: TEC
  meaning: techniques  élémentaires et culinaires
  aliases: [T2]
- acronym: TEC
  meaning: Table des Entrées Chaudes
"""


def test_duplicates_error_names_both_sources(tmp_path):
    path = write(tmp_path / "g.yaml", DUPLICATES)
    with pytest.raises(LexituneError, match=r"'TEC'.*g\.yaml:1 and .*g\.yaml:9.*duplicates: senses.*first"):
        load_glossary(path)


def test_duplicates_first_keeps_first(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        terms = load_glossary(write(tmp_path / "g.yaml", DUPLICATES), duplicates="first")
    assert [t.term for t in terms] == ["TEC", "PER"]
    assert terms[0].definition == "Techniques Élémentaires et Culinaires"
    assert terms[0].senses == []
    assert terms[0].aliases == ["T1", "T2"]  # the identical duplicate still merges
    assert "g.yaml:9" in caplog.text


def test_duplicates_senses_keeps_both(tmp_path):
    terms = load_glossary(write(tmp_path / "g.yaml", DUPLICATES), duplicates="senses")
    assert [t.term for t in terms] == ["TEC", "PER"]
    assert terms[0].definitions == ["Techniques Élémentaires et Culinaires", "Table des Entrées Chaudes"]


def test_case_of_terms_is_kept_and_distinguishes(tmp_path):
    path = write(tmp_path / "g.json", '{"MoJ": "Ministry of Justice", "MOJ": "Mojito Operations Journal"}')
    assert [(t.term, t.definition) for t in load_glossary(path)] == [
        ("MoJ", "Ministry of Justice"),
        ("MOJ", "Mojito Operations Journal"),
    ]


def test_load_from_config(tmp_path):
    path = write(tmp_path / "g.csv", "name,meaning\nTEC,Techniques\nTEC,Tables\n")
    cfg = GlossaryConfig(path=path, duplicates="senses")
    [term] = load_from_config(cfg)
    assert term.definitions == ["Techniques", "Tables"]
    with pytest.raises(LexituneError, match="glossary.path is not set"):
        load_from_config(GlossaryConfig())
