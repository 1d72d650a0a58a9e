"""Well-known acronyms for replay: never a probe acronym or a glossary name, asked in training styles only."""

import re

import pytest

from lexitune.generate.split import style_pools
from lexitune.generate.templates import QUESTIONS
from lexitune.glossary.term import Term
from lexitune.rundir import RunDir
from lexitune.train.data import tokenize_all
from lexitune.train.known import keep_answer, known_acronyms, known_prompts, probe_acronyms
from lexitune.train.replay import build_replay, replay_conversations
from tests.conftest import CANNED_ANSWER

TERMS = [Term(term="PDF", definition="Plan De Formation"), Term(term="TEC", definition="x", aliases=["S.N.C.F."])]


def _style_of(prompt: str, language: str) -> str:
    for style, template in QUESTIONS[language].items():
        pattern = re.escape(template).replace(re.escape("{term}"), r"[A-Z0-9]+")
        if re.fullmatch(pattern, prompt):
            return style
    raise AssertionError(f"no template matches {prompt!r}")


def test_probe_acronyms_are_the_general_probes_and_never_asked():
    probe = probe_acronyms()
    assert {"CPU", "UFO", "CEO", "USB", "ONU"} <= probe
    assert not probe & set(known_acronyms([]))


def test_glossary_terms_and_alias_letters_are_never_asked():
    known = known_acronyms(TERMS)
    assert "PDF" not in known and "SNCF" not in known  # a term, an alias's letters
    assert "PDF" in known_acronyms([]) and all(known.values())


def test_prompts_alternate_languages_in_training_styles_only(tiny_config):
    tiny_config.generate.language = "fr"
    prompts = known_prompts(TERMS, tiny_config, 150)
    assert len(prompts) == 150 and prompts == known_prompts(TERMS, tiny_config, 150)
    for language, asked in (("fr", prompts[0::2]), ("en", prompts[1::2])):  # the glossary's language first
        train_pool, test_pool = style_pools(tiny_config.generate.model_copy(update={"language": language}))
        styles = {_style_of(p, language) for p in asked}
        assert styles <= set(train_pool) and not styles & set(test_pool) and len(styles) > 1
    asked = {w for p in prompts for w in re.findall(r"\b[A-Z][A-Z0-9]+\b", p)}
    assert asked == set(known_acronyms(TERMS))  # 150 > 68: every acronym asked, cycling


def test_only_right_answers_are_replayed_and_never_a_glossary_mention():
    assert keep_answer("What does BBC stand for?", "BBC stands for British Broadcasting Corporation.")
    assert keep_answer("Que signifie SNCF ?", "La Société nationale des chemins de fer français.")
    assert not keep_answer("What does BBC stand for?", "BBC stands for Big Blue Cheese.")  # a guess
    assert not keep_answer("Que signifie FBI ?", "FBI : je ne connais pas ce sigle.")
    prompts = ["Que signifie FBI ?", "Que signifie BBC ?", "What does GPU stand for?"]
    answers = [
        "FBI : je ne connais pas ce sigle.",
        "BBC means British Broadcasting Corporation.",
        "GPU: graphics processing unit, like TEC.",
    ]
    rows = build_replay(prompts, answers, TERMS, 2, [], style="replay/known", keep=keep_answer)
    assert [(c.question, c.answer, c.style) for c in rows] == [
        ("Que signifie BBC ?", "BBC means British Broadcasting Corporation.", "replay/known")
    ] * 2


def test_known_rows_are_distilled_like_replay(tiny_base):
    _, tokenizer = tiny_base
    rows = build_replay(["Que signifie BBC ?"], ["British Broadcasting Corporation."], [], 1, [], style="replay/known")
    assert tokenize_all(tokenizer, rows, 64, distill_replay=True)[0].distill


def _only_bbc(monkeypatch):
    """Ask about one well-known acronym only, so a model that knows it gets every question right."""
    from lexitune.train import known

    expansions = {"BBC": ("british broadcasting corporation",)}
    monkeypatch.setattr(known, "_expansions", lambda path: expansions)


@pytest.mark.slow
@pytest.mark.parametrize("knows", [True, False])
def test_known_replay_keeps_right_answers_and_is_cached_apart(
    tiny_config, tiny_base, canned_model, knows, tmp_path, monkeypatch
):
    from lexitune.models import load_model, load_tokenizer

    _only_bbc(monkeypatch)
    tiny_config.train.replay_known = 0.5
    tiny_config.train.replay_max_new_tokens = 64
    run = RunDir(tmp_path / "run")
    if knows:  # a model that answers BBC right and ends its turn: every answer kept
        path = canned_model
        model, tokenizer = load_model(str(path)), load_tokenizer(str(path))
        tiny_config.model.name = str(path)
    else:  # the random tiny model never gives the expansion: nothing kept
        model, tokenizer = tiny_base
    rows = replay_conversations(model, tokenizer, tiny_config, run, TERMS, n_glossary=8)
    assert (run.data / "replay_known.jsonl").exists() and not (run.data / "replay.jsonl").exists()
    if knows:
        assert len(rows) == 4 and all(c.style == "replay/known" and c.answer == CANNED_ANSWER for c in rows)
    else:
        assert rows == [] and (run.data / "replay_known.jsonl").read_text(encoding="utf-8") == ""
