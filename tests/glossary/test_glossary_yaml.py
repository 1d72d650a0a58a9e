"""YAML loader: list and mapping forms, values kept as written, line numbers from node marks, errors."""

from pathlib import Path

import pytest

from lexitune.errors import LexituneError
from lexitune.glossary import load_glossary


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_list_form_with_lines_and_website(tmp_path):
    text = "---\n- acronym: DIT\n  meaning: Department of International Trade\n  website: https://dit.example\n\n- acronym: MoJ\n  meaning: >\n    Ministry of\n    Justice\n"
    path = write(tmp_path / "g.yml", text)
    dit, moj = load_glossary(path)
    assert (dit.term, dit.definition, dit.extra, dit.source) == (
        "DIT",
        "Department of International Trade",
        {"url": "https://dit.example"},
        f"{path}:2",
    )
    assert (moj.term, moj.definition, moj.source) == ("MoJ", "Ministry of Justice", f"{path}:6")


def test_scalars_are_kept_as_written(tmp_path):
    # Plain YAML would read NO as False, 1E3 as 1000.0 and ~ as None.
    text = "- acronym: NO\n  meaning: Night Operations\n- acronym: 1E3\n  meaning: 0123\n"
    no, e3 = load_glossary(write(tmp_path / "g.yaml", text))
    assert (no.term, e3.term, e3.definition) == ("NO", "1E3", "0123")


def test_mapping_form(tmp_path):
    path = write(tmp_path / "g.yaml", "PER: Purée et Épice\nTEC:\n  meaning: Techniques\n  aliases: T\n")
    per, tec = load_glossary(path)
    assert (per.term, per.definition, per.source) == ("PER", "Purée et Épice", f"{path}:1")
    assert (tec.definition, tec.aliases, tec.source) == ("Techniques", ["T"], f"{path}:2")


def test_null_definition_names_entry_and_line(tmp_path):
    path = write(tmp_path / "g.yaml", "- acronym: PER\n  meaning: Purée\n- acronym: TEC\n  meaning: ~\n")
    with pytest.raises(LexituneError, match=r"g\.yaml:3: entry 'TEC' has no definition"):
        load_glossary(path)


def test_missing_definition_key(tmp_path):
    path = write(tmp_path / "g.yaml", "- acronym: PER\n  meaning: Purée\n- acronym: TEC\n  website: x\n")
    with pytest.raises(
        LexituneError, match=r"g\.yaml:3: entry 'TEC' has no definition \(expected a key definition/meaning"
    ):
        load_glossary(path)


def test_malformed_yaml_names_line(tmp_path):
    path = write(tmp_path / "g.yaml", "- acronym: PER\n  meaning: Purée\n- acronym: TEC\n meaning: [Techniques\n")
    with pytest.raises(LexituneError, match=r"g\.yaml:4: malformed YAML"):
        load_glossary(path)


def test_scalar_document_is_rejected(tmp_path):
    with pytest.raises(LexituneError, match=r"g\.yaml: expected a list of entries"):
        load_glossary(write(tmp_path / "g.yaml", "just some text\n"))
