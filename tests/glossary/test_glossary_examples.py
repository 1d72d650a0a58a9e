"""Every example glossary shipped in examples/ (and the test fixtures) loads to the expected terms."""

from pathlib import Path

import yaml

from lexitune.glossary import load_glossary

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
UK = Path("/work/shared/data/uk-public-sector-acronyms.yml")


def test_culinary_fr():
    terms = load_glossary(EXAMPLES / "culinary-fr" / "glossary.json")
    assert len(terms) == 15
    assert [(t.term, t.definition) for t in terms[:5]] == [
        ("PER", "Purée et Épice de la Réussite"),
        ("FUN", "Fusion Universelle de la Nourriture"),
        ("TEC", "Techniques Élémentaires et Culinaires"),
        ("SAL", "Savoir-Faire et Aromes de la Légèreté"),
        ("CAMP", "Création Artisanale et Maîtrisée de la Pâtisserie"),
    ]
    for t in terms:
        assert 2 <= len(t.term) <= 5 and t.term.isupper(), t.term
        assert 3 <= len(t.definition.split()) <= 7, t.definition


def test_invented_en():
    terms = load_glossary(EXAMPLES / "invented-en" / "glossary.csv")
    assert len(terms) == 12
    koral = next(t for t in terms if t.term == "KORAL")
    assert (koral.definition, koral.aliases) == (
        "Keyed Order Routing and Allocation Ledger",
        ["order ledger", "routing ledger"],
    )
    assert sum(1 for t in terms if t.aliases) == 3


def test_skos_en_turtle_and_rdf_xml_agree():
    ttl = load_glossary(EXAMPLES / "skos-en" / "glossary.ttl")
    rdf = load_glossary(EXAMPLES / "skos-en" / "glossary.rdf")
    assert [t.model_dump() for t in ttl] == [t.model_dump() for t in rdf]
    assert [t.term for t in ttl] == ["BRQ", "TIDSW", "MSRD", "NOVAQ", "SALTR", "DOBS", "PEWK", "CRLV"]
    tidsw = ttl[1]
    assert (tidsw.definition, tidsw.aliases, tidsw.related) == ("Tidal Surge Watch", ["surge watch"], ["BRQ", "MSRD"])
    assert ttl[6].related == ["TIDSW"]  # skos:broader


def test_uk_public_sector_merges_identical_gds():
    example = EXAMPLES / "uk-public-sector" / "glossary.yml"
    assert not UK.exists() or example.read_bytes() == UK.read_bytes()
    raw = yaml.safe_load(example.read_text(encoding="utf-8"))
    assert len(raw) == 100
    terms = load_glossary(example)
    assert len(terms) == 99  # GDS appears twice with the same meaning
    names = [t.term for t in terms]
    assert {"Defra", "MoJ", "NS&I", "Ofsted"} <= set(names)
    gds = next(t for t in terms if t.term == "GDS")
    assert (gds.definition, gds.senses) == ("Government Digital Service", [])
    assert gds.extra == {"url": "https://gds.blog.gov.uk/"}
    assert gds.source.endswith("glossary.yml:17")


def test_course_xml_tolerant():
    assert [t.term for t in load_glossary(EXAMPLES / "course-xml" / "glossary.xml", tolerant=True)] == [
        "kisti",
        "Lawrence Berkeley National Laboratory",
    ]


def test_senses_en_keeps_each_meaning_with_its_context():
    config = yaml.safe_load((EXAMPLES / "senses-en" / "lexitune.yaml").read_text())
    terms = load_glossary(EXAMPLES / "senses-en" / "glossary.csv", duplicates=config["glossary"]["duplicates"])
    by_term = {t.term: t for t in terms}
    assert len(terms) == 6 and len(by_term["AAA"].definitions) == 3
    assert dict(by_term["ATM"].sense_contexts) == {
        "banking": "Automated Teller Machine",
        "aviation": "Air Traffic Management",
    }
    assert by_term["SLA"].sense_contexts == []
