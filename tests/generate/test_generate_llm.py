"""LLM-written conversations over real HTTP: validation, retries, failures by name, split, mixing, resume."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lexitune.config import GenerateConfig
from lexitune.errors import LexituneError
from lexitune.evaluate.metrics import contains_definition
from lexitune.generate import generate_conversations
from lexitune.generate.llm import llm_conversations
from lexitune.generate.split import family
from lexitune.glossary.term import Term
from lexitune.llm.extract import extract_json
from tests.fake_openai import FakeLLM, culinary

GLOSSARY = culinary(4)
TERMS = [Term(term=t, definition=d) for t, d in GLOSSARY.items()]


@pytest.fixture
def llm():
    with FakeLLM(GLOSSARY) as server:
        yield server


def _cfg(llm: FakeLLM, tmp_path: Path, **kw) -> GenerateConfig:
    base = dict(
        backend="openai",
        base_url=llm.url,
        model="fake",
        language="fr",
        cache_dir=tmp_path / "cache",
        backoff=0.01,
        conversations_per_term=4,
    )
    return GenerateConfig(**{**base, **kw})


def _assert_valid(conversations, by_term=GLOSSARY):
    for c in conversations:
        assert [m.role for m in c.messages] == ["user", "assistant"]
        assert contains_definition(c.answer, by_term[c.term]), c
        assert contains_definition(c.question, c.term), c


def test_extract_json_from_prose_fences_and_python_literals():
    assert extract_json('{"a": 1}') == {"a": 1}
    assert extract_json('Voici :\n```json\n[{"a": 1}]\n```\nBonne journée !') == [{"a": 1}]
    assert extract_json('Sure {not json} here: {"verdict": 1, "explanation": "ok"} done') == {
        "verdict": 1,
        "explanation": "ok",
    }
    assert extract_json("Here you go: [{'role': 'user', 'content': \"C'est quoi ?\"}]") == [
        {"role": "user", "content": "C'est quoi ?"}
    ]
    assert extract_json("no json at all") is None and extract_json(None) is None


def test_split_holds_out_one_in_four_per_term_and_is_recorded(llm, tmp_path):
    report: dict = {}
    train, test = llm_conversations(TERMS, _cfg(llm, tmp_path), seed=0, report=report)
    assert len(train) == 12 and len(test) == 4  # 4 terms x (3 train + 1 test), as in the course
    _assert_valid(train + test)
    assert {c.term for c in test} == set(GLOSSARY) and all(c.split == "test" for c in test)
    assert all(c.style.startswith("llm.") for c in train + test)
    assert report["per_term"]["TEC"] == {"kept": 4, "train": 3, "test": 1, "attempts": 1, "dropped": {}}
    assert report["failures"] == [] and report["usage"]["requests"] == 4
    # Every conversation is one the server wrote (the data really comes from the LLM).
    written = [c["messages"] for r in llm.answered() for c in extract_json(r["reply"])["conversations"]]
    assert all([m.model_dump() for m in c.messages] in written for c in train + test)


def test_bad_replies_are_dropped_with_reasons_and_the_term_retried(llm, tmp_path):
    llm.faults = {
        "PER": ["schema"],  # valid JSON, wrong keys
        "FUN": ["missing_definition"],
        "TEC": ["roles", "prose"],  # then the retry comes wrapped in prose
        "SAL": ["no_term", "duplicates", "python"],
    }
    report: dict = {}
    train, test = llm_conversations(TERMS, _cfg(llm, tmp_path), seed=0, report=report)
    _assert_valid(train + test)
    assert report["failures"] == []
    for term in GLOSSARY:
        assert report["per_term"][term]["kept"] == 4, (term, report["per_term"][term])
    dropped = report["dropped"]
    assert dropped["schema violation"] == 4 and dropped["definition missing"] == 4 and dropped["wrong roles"] == 4
    assert dropped["term missing from question"] == 4 and dropped["near-duplicate question"] == 3
    assert report["per_term"]["SAL"]["attempts"] == 3


def test_a_term_that_never_gets_valid_conversations_is_named_not_lost(llm, tmp_path, capsys):
    llm.faults = {"FUN": ["missing_definition"] * 3}
    report: dict = {}
    train, test = llm_conversations(TERMS, _cfg(llm, tmp_path, term_attempts=3), seed=0, report=report)
    assert [f["term"] for f in report["failures"]] == ["FUN"]
    assert report["failures"][0]["dropped"] == {"definition missing": 12}
    assert len(llm.received("FUN")) == 3
    # Nothing lost: every term either has valid conversations in the data or is named in failures.
    produced = {c.term for c in train + test}
    assert produced | {f["term"] for f in report["failures"]} == set(GLOSSARY) and "FUN" not in produced
    assert "FUN: only 0 valid conversations" in capsys.readouterr().err


def test_every_term_failing_is_a_user_error(llm, tmp_path):
    llm.faults = {"*": ["missing_definition"] * 8}
    with pytest.raises(LexituneError, match="no term got 2 valid conversations"):
        llm_conversations(TERMS, _cfg(llm, tmp_path, term_attempts=2), seed=0)


def test_requests_that_keep_failing_end_as_named_failures(llm, tmp_path):
    llm.faults = {"CAMP": ["500"] * 10}
    terms = [*TERMS, Term(term="CAMP", definition=culinary(5)["CAMP"])]
    llm.glossary = {**GLOSSARY, "CAMP": terms[-1].definition}
    report: dict = {}
    train, _ = llm_conversations(terms, _cfg(llm, tmp_path, max_retries=1, term_attempts=2), seed=0, report=report)
    assert [f["term"] for f in report["failures"]] == ["CAMP"]
    assert report["failures"][0]["dropped"] == {"request failed: HTTP 500": 2}
    assert len(llm.received("CAMP")) == 4 and len({c.term for c in train}) == 4


def test_llm_for_train_templates_for_test_and_the_reverse(llm, tmp_path):
    cfg = _cfg(llm, tmp_path, test_backend="templates", examples_per_term=4)
    train, test = generate_conversations(TERMS, cfg, seed=0)
    assert len(train) == 16 and all(c.style.startswith("llm.") and c.split == "train" for c in train)
    forward = [c for c in test if family(c.style) == "forward"]
    assert len(forward) == 12 and all(c.style.startswith("fr.q") for c in forward)
    cfg = _cfg(llm, tmp_path, backend="templates", test_backend="openai")
    train, test = generate_conversations(TERMS, cfg, seed=0)
    assert all(c.style.startswith("fr.q") for c in train) and len(train) == 32
    forward = [c for c in test if family(c.style) == "forward"]
    assert len(forward) == 16 and all(c.style.startswith("llm.") and c.split == "test" for c in forward)
    # The reverse and sealed families are the templates' whatever wrote the rest: 2 + 4 a term.
    assert len(test) - len(forward) == len(TERMS) * 6


def test_too_few_llm_conversations_are_topped_up_with_templates(llm, tmp_path):
    report: dict = {}
    cfg = _cfg(llm, tmp_path, test_backend="templates", examples_per_term=7)
    train, _ = generate_conversations(TERMS, cfg, seed=0, report=report)
    per_term = {t.term: sum(c.term == t.term for c in train) for t in TERMS}
    assert per_term == {t.term: 7 for t in TERMS}
    assert sum(c.style.startswith("template/") for c in train) == report["topped_up"]["total_added"] == 3 * len(TERMS)


_KILLED_RUN = """
import sys
from lexitune.config import GenerateConfig
from lexitune.generate.llm import llm_conversations
from lexitune.glossary.term import Term
terms = [Term(term=t, definition=d) for t, d in {glossary!r}.items()]
cfg = GenerateConfig(backend="openai", base_url={url!r}, model="fake", language="fr", cache_dir={cache!r},
                     conversations_per_term=4, concurrency=2, timeout=60)
llm_conversations(terms, cfg, seed=0)
"""


def test_a_killed_generation_resumes_from_the_cache_without_repeating_a_request(llm, tmp_path):
    cache = str(tmp_path / "cache")
    llm.faults = {"TEC": ["hang"], "SAL": ["hang"]}  # the run is killed while these two are in flight
    code = textwrap.dedent(_KILLED_RUN.format(glossary=GLOSSARY, url=llm.url, cache=cache))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(llm.received()) < 4 or len(llm.answered()) < 2:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the generation never got going"
            time.sleep(0.05)
        time.sleep(0.2)  # let the client write the two replies it received to the cache
    finally:
        proc.kill()
        proc.wait()
    paid = {r["key"] for r in llm.answered()}
    assert paid == {"PER", "FUN"}
    report: dict = {}
    train, test = llm_conversations(TERMS, _cfg(llm, tmp_path, cache_dir=cache), seed=0, report=report)
    assert len(train) + len(test) == 16 and report["failures"] == []
    answered_keys = [r["key"] for r in llm.answered()]
    assert sorted(answered_keys) == ["FUN", "PER", "SAL", "TEC"], "an answered request was asked again"
    assert report["usage"]["cached"] == 2
    # A rerun now costs nothing at all.
    before = len(llm.requests)
    llm_conversations(TERMS, _cfg(llm, tmp_path, cache_dir=cache), seed=0)
    assert len(llm.requests) == before


def test_the_shipped_ollama_example_config_is_valid():
    from lexitune.config import load_config

    root = Path(__file__).parents[2]
    cfg = load_config(root / "examples" / "culinary-fr" / "lexitune-ollama.yaml")
    assert cfg.generate.backend == "openai" and cfg.generate.base_url == "http://localhost:11434/v1"
    assert cfg.eval.judge is not None and cfg.eval.judge.model == cfg.generate.model == "gemma3:27b"
    assert cfg.glossary.path.exists()
