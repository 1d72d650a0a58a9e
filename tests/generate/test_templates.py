"""The offline template generator: held-out styles, verbatim definitions, aliases, senses, files.

.venv/bin/python -m pytest tests/generate -q
"""

from __future__ import annotations

import json
import re

import pytest

from lexitune.config import GenerateConfig
from lexitune.errors import LexituneError
from lexitune.generate import generate_conversations
from lexitune.generate.split import style_pools, template_conversations
from lexitune.generate.templates import ANSWERS, QUESTIONS, SENSE_ANSWERS, fill
from lexitune.glossary.term import Term

LANGUAGES = ["en", "fr"]

TERMS = [
    Term(term="GPU", definition="Graphics Processing Unit"),
    Term(term="AOC", definition="Appellation d'origine contrôlée.", aliases=["AOP", "A.O.C."]),
    Term(term="PC", definition="Personal Computer", senses=["Politiquement correct", "Poste de commande."]),
    Term(term="TEC", definition="Tarte en croûte", aliases=["T.E.C"], senses=["Temps estimé de cuisson"]),
]


def _generate(language: str = "en", seed: int = 0, **settings):
    """The forward question's conversations only (the reverse and sealed families: test_families.py)."""
    settings = {"reverse_test": False, "sealed": False, **settings}
    return template_conversations(TERMS, GenerateConfig(language=language, **settings), seed)


def _definitions(term: str) -> list[str]:
    return next(t for t in TERMS if t.term == term).definitions


@pytest.mark.parametrize("language", LANGUAGES)
def test_held_out_styles_and_questions_never_trained(language):
    train, test = _generate(language)
    train_styles, test_styles = {c.style for c in train}, {c.style for c in test}
    assert test_styles and not train_styles & test_styles
    assert not {c.question for c in train} & {c.question for c in test}
    # Split once for the whole glossary: every term is tested on the same held-out styles.
    _, pool = style_pools(GenerateConfig(language=language))
    for term in TERMS:
        assert sorted(c.style for c in test if c.term == term.term) == pool


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("settings", [{}, {"train_styles": 3, "test_styles": 2, "answers_per_question": 3}])
def test_counts_and_split_fields(language, settings):
    cfg = GenerateConfig(language=language, **settings)
    train, test = _generate(language, **settings)
    assert len(train) == len(TERMS) * cfg.train_styles * cfg.answers_per_question
    assert len(test) == len(TERMS) * cfg.test_styles
    assert {c.split for c in train} == {"train"} and {c.split for c in test} == {"test"}
    assert {c.term for c in train} == {c.term for c in test} == {t.term for t in TERMS}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_answer_holds_every_definition_and_the_term(language):
    train, test = _generate(language, answers_per_question=2)
    for c in train + test:
        for definition in _definitions(c.term):
            assert definition in c.answer, (c.style, c.answer)
        assert c.term in c.answer
        assert ".." not in c.answer, c.answer


@pytest.mark.parametrize("language", LANGUAGES)
def test_questions_name_the_term_or_an_alias(language):
    train, test = _generate(language)
    for c in test:
        assert c.term in c.question
    alias_questions = 0
    for c in train:
        aliases = next(t for t in TERMS if t.term == c.term).aliases
        alias = next((a for a in aliases if a in c.question), None)
        if alias is not None and c.term not in alias:
            alias_questions += 1
            assert alias in c.answer and c.term in c.answer
        else:
            assert c.term in c.question
    assert alias_questions >= 2  # AOC and TEC each get at least one


@pytest.mark.parametrize("language", LANGUAGES)
def test_senses_use_the_multi_sense_form(language):
    train, _ = _generate(language)
    for c in train:
        term = next(t for t in TERMS if t.term == c.term)
        forms = SENSE_ANSWERS if term.senses else ANSWERS
        # endswith: an alias question puts "<alias> is another name for <term>. " in front.
        assert any(
            c.answer.endswith(fill(f, term.term, term.definitions, language=language)) for f in forms[language].values()
        ), c.answer


def test_answers_vary_within_a_term_and_with_the_seed():
    train, _ = _generate("en")
    gpu = [c.answer for c in train if c.term == "GPU"]
    assert len(set(gpu)) >= min(len(gpu), len(ANSWERS["en"])) - 1
    other, _ = _generate("en", seed=1)
    assert [c.answer for c in train] != [c.answer for c in other]


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_seed_same_output(language):
    assert _generate(language, seed=7) == _generate(language, seed=7)


def test_adding_a_term_leaves_the_others_unchanged():
    cfg = GenerateConfig()
    alone, _ = template_conversations(TERMS[:1], cfg, 0)
    together, _ = template_conversations([Term(term="CPU", definition="Central Processing Unit"), *TERMS], cfg, 0)
    assert alone == [c for c in together if c.term == "GPU"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_system_prompt_opens_every_conversation(language):
    train, test = _generate(language, system_prompt="You are a glossary.")
    for c in train + test:
        assert [m.role for m in c.messages] == ["system", "user", "assistant"]
        assert c.messages[0].content == "You are a glossary."
    train, _ = _generate(language)
    assert [m.role for m in train[0].messages] == ["user", "assistant"]


def test_pools_have_enough_distinct_styles():
    for language in LANGUAGES:
        assert len(QUESTIONS[language]) >= 11 and len(ANSWERS[language]) >= 6
        assert len(set(QUESTIONS[language].values())) == len(QUESTIONS[language])
        assert all(sid.startswith(f"{language}.") for sid in QUESTIONS[language])


@pytest.mark.parametrize(
    ("settings", "named"),
    [({"train_styles": 14}, "generate.train_styles = 14: at most 13"), ({"test_styles": 16}, "generate.test_styles")],
)
def test_too_many_styles_is_a_user_error(settings, named):
    with pytest.raises(LexituneError, match=re.escape(named)):
        _generate("en", **settings)


def _write_jsonl(path, rows):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_users_own_conversations_file(tmp_path):
    own = _write_jsonl(
        tmp_path / "own.jsonl",
        [
            {
                "messages": [
                    {"role": "user", "content": "GPU?"},
                    {"role": "assistant", "content": "Graphics Processing Unit"},
                ]
            }
        ],
    )
    train, test = generate_conversations(TERMS, GenerateConfig(conversations=own), 0)
    assert [(c.split, c.style, c.question) for c in train] == [("train", "user", "GPU?")]
    # held-out template questions (every family) still measure the user's data
    assert test == _generate(reverse_test=True, sealed=True)[1]

    held = _write_jsonl(
        tmp_path / "held.jsonl",
        [{"messages": [{"role": "user", "content": "GPU ?"}, {"role": "assistant", "content": "Graphics"}]}],
    )
    _, test = generate_conversations(TERMS, GenerateConfig(conversations=own, test_conversations=held), 0)
    assert [(c.split, c.question) for c in test] == [("test", "GPU ?")]


def test_bad_line_in_users_file_names_file_and_line(tmp_path):
    good = {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
    bad = _write_jsonl(tmp_path / "bad.jsonl", [good, "{not json"])
    with pytest.raises(LexituneError, match=re.escape(f"{bad}:2:")):
        generate_conversations(TERMS, GenerateConfig(conversations=bad), 0)
    no_answer = _write_jsonl(
        tmp_path / "no_answer.jsonl", [good, good, {"messages": [{"role": "user", "content": "Q"}]}]
    )
    with pytest.raises(LexituneError, match=re.escape(f"{no_answer}:3:")):
        generate_conversations(TERMS, GenerateConfig(conversations=no_answer), 0)
