"""XML loader: the course's nested form (strict and tolerant), the plain form, undeclared prefixes, RDF in .xml."""

import logging
from pathlib import Path

import pytest

from lexitune.errors import LexituneError
from lexitune.glossary import load_glossary

COURSE = Path(__file__).parents[2] / "examples" / "course-xml" / "glossary.xml"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_course_example_strict_names_line_and_suggests_tolerant():
    with pytest.raises(LexituneError) as e:
        load_glossary(COURSE)
    message = str(e.value)
    assert message.startswith(
        f"{COURSE}:8: XML is not well-formed: Opening and ending tag mismatch: link line 7 and data"
    )
    assert "glossary.tolerant: true" in message


def test_course_example_tolerant_recovers_kisti_and_berkeley(caplog):
    with caplog.at_level(logging.WARNING):
        kisti, berkeley = load_glossary(COURSE, tolerant=True)
    assert kisti.term == "kisti"
    assert kisti.aliases == ["Korean Institute for Science and Technology Information"]
    assert kisti.definition.startswith("KISTI is a government-funded research institute")
    assert kisti.definition.endswith("(ICSTI).")
    assert kisti.related == ["research"]
    assert kisti.extra == {"url": "http://en.kisti.re.kr", "uri": "http://www.my.com/#kisti"}
    assert kisti.source == f"{COURSE}:1"
    assert berkeley.term == "Lawrence Berkeley National Laboratory"
    assert berkeley.definition.startswith("In the world of science, Lawrence Berkeley National Laboratory")
    assert (berkeley.related, berkeley.extra["url"], berkeley.source) == (
        ["research"],
        "http://www.lbl.gov",
        f"{COURSE}:9",
    )
    assert "#Yellowstone has no label (prefLabel); skipped" in caplog.text


def test_course_form_well_formed_with_undeclared_prefixes(tmp_path):
    text = """<data skos:Concept="http://www.my.com/#institute" uri="http://www.my.com/#kisti">
    <skos:prefLabel>kisti</skos:prefLabel>
    <data uri="http://www.my.com/#korea">
        <data uri="http://www.my.com/#deeper">
            <skos:related rdf:resource="http://www.my.com/#research"/>
            <skos:definition>Korean research institute</skos:definition>
        </data>
        <link skos:Concept="http://www.my.com/#url" value="http://en.kisti.re.kr"/>
    </data>
</data>
<data skos:Concept="http://www.my.com/#laboratory" uri="http://www.my.com/#lab">
    <skos:prefLabel>lab</skos:prefLabel>
    <skos:definition>A laboratory</skos:definition>
</data>
"""
    path = write(tmp_path / "g.xml", text)
    kisti, lab = load_glossary(path)
    assert (kisti.term, kisti.definition, kisti.related) == ("kisti", "Korean research institute", ["research"])
    assert kisti.extra["url"] == "http://en.kisti.re.kr"
    assert (lab.term, lab.source) == ("lab", f"{path}:11")


def test_plain_form(tmp_path):
    text = """<?xml version="1.0" encoding="UTF-8"?>
<glossary>
  <term>
    <prefLabel>TEC</prefLabel>
    <altLabel>T</altLabel>
    <definition>Techniques
      Élémentaires et Culinaires</definition>
    <related>PER</related>
    <url>https://tec.example</url>
  </term>
  <term><prefLabel>PER</prefLabel><definition>Purée et Épice de la Réussite</definition></term>
</glossary>
"""
    path = write(tmp_path / "g.xml", text)
    tec, per = load_glossary(path)
    assert (tec.term, tec.aliases, tec.definition) == ("TEC", ["T"], "Techniques Élémentaires et Culinaires")
    assert (tec.related, tec.extra, tec.source) == (["PER"], {"url": "https://tec.example"}, f"{path}:3")
    assert (per.definition, per.source) == ("Purée et Épice de la Réussite", f"{path}:11")


def test_missing_definition_strict_names_line(tmp_path):
    path = write(
        tmp_path / "g.xml", "<glossary>\n  <term><prefLabel>TEC</prefLabel><related>PER</related></term>\n</glossary>\n"
    )
    with pytest.raises(LexituneError, match=r"g\.xml:2: entry 'TEC' has no definition"):
        load_glossary(path)


def test_malformed_xml_names_line(tmp_path):
    path = write(
        tmp_path / "g.xml",
        "<glossary>\n<term><prefLabel>TEC</prefLabel>\n<definition>x</definitio>\n</term></glossary>\n",
    )
    with pytest.raises(LexituneError, match=r"g\.xml:3: XML is not well-formed: .*definition"):
        load_glossary(path)


def test_rdf_in_xml_file_goes_to_skos(tmp_path):
    rdf = (Path(__file__).parents[2] / "examples" / "skos-en" / "glossary.rdf").read_text(encoding="utf-8")
    terms = load_glossary(write(tmp_path / "thesaurus.xml", rdf))
    assert terms[0].term == "BRQ"
    assert terms[0].source == "http://example.org/fenwick/BRQ"


def test_element_left_open_until_end_of_file(tmp_path):
    path = write(
        tmp_path / "g.xml", "<glossary>\n<term><prefLabel>TEC</prefLabel><definition>x</definition>\n</glossary>\n"
    )
    with pytest.raises(
        LexituneError, match=r"g\.xml:3: XML is not well-formed: Opening and ending tag mismatch: term line 2"
    ) as e:
        load_glossary(path)
    assert "lexitune" not in str(e.value)


def test_unclosed_at_end_message(tmp_path):
    path = write(tmp_path / "g.xml", "<term><prefLabel>TEC</prefLabel><definition>x</definition>\n")
    with pytest.raises(
        LexituneError, match=r"g\.xml:2: XML is not well-formed: <term> opened on line 1 is never closed"
    ):
        load_glossary(path)
