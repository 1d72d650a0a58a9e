"""Calculations for replay: never one the probe asks, both languages, only right answers kept."""

import pytest

from lexitune.evaluate.probes.general import load_general
from lexitune.rundir import RunDir
from lexitune.train.arithmetic import arithmetic_prompts, calculation, keep_answer, probe_calculations
from lexitune.train.replay import build_replay, replay_conversations
from tests.conftest import CANNED_ANSWER


def test_calculations_are_read_in_both_languages():
    assert calculation("What is 6 times 2?") == (6, "*", 2)
    assert calculation("Combien font 10 - 3 ?") == (10, "-", 3)
    assert calculation("Combien fait 3 multiplié par 4 ?") == (3, "*", 4)
    assert calculation("Additionne 3 et 4.") == (3, "+", 4)
    assert calculation("Combien fait 12 divisé par 4 ?") == (12, "/", 4)
    assert calculation("What does CPU stand for?") is None


def test_the_probes_calculations_are_never_asked(tiny_config):
    probe = probe_calculations()
    assert {(6, "*", 2), (2, "+", 2), (10, "-", 3), (3, "+", 5)} <= probe  # test and val splits
    arithmetic = [q for split in ("test", "val") for q in load_general(split) if q.kind == "arithmetic"]
    assert len(probe) == len({calculation(q.question) for q in arithmetic})  # every one of them is read
    prompts = arithmetic_prompts(tiny_config, 400)
    assert len(prompts) == 400 and prompts == arithmetic_prompts(tiny_config, 400)
    assert not {calculation(p) for p in prompts} & probe
    assert all(calculation(p) is not None for p in prompts)


def test_languages_alternate_the_glossarys_first(tiny_config):
    tiny_config.generate.language = "fr"
    prompts = arithmetic_prompts(tiny_config, 40)
    french = ("Combien", "Calcule", "Additionne")
    assert all(p.startswith(french) for p in prompts[0::2])
    assert not any(p.startswith(french) for p in prompts[1::2])
    assert len({p.split()[0] for p in prompts}) > 3  # templates vary


def test_only_answers_stating_the_result_are_kept():
    assert keep_answer("What is 7 times 5?", "7 times 5 is 35.")
    assert keep_answer("Combien font 4 + 4 ?", "Combien font 4 + 4 = 8.")
    assert keep_answer("What is 1 times 1?", "1 times 1 is 1.")
    assert keep_answer("What is 12 divided by 4?", "12 divided by 4 is 3.")
    assert not keep_answer("What is 8 times 1?", "Combien font 8 fois 1.")  # the operand repeated, no result
    assert not keep_answer("Combien font 3 + 3 ?", "Combien font 3 + 3 = 4.")
    assert not keep_answer("What is 1 times 3?", "1 times 3.")
    assert not keep_answer("Calcule 144 divisé par 12.", "En divisant 144 par 12, le calcul est 144.")
    assert not keep_answer("What is 6 plus 2?", "To solve this problem, we need to think.")
    assert not keep_answer("What does BBC stand for?", "British Broadcasting Corporation, 2 of 4.")
    rows = build_replay(
        ["What is 7 times 5?", "What is 3 plus 2?"], ["7 times 5 is 35.", "It is 6."], [], 2, [],
        style="replay/arithmetic", keep=keep_answer,
    )  # fmt: skip
    assert [(c.question, c.answer) for c in rows] == [("What is 7 times 5?", "7 times 5 is 35.")] * 2


@pytest.mark.slow
@pytest.mark.parametrize("knows", [True, False])
def test_arithmetic_replay_keeps_right_answers_and_is_cached_apart(
    tiny_config, tiny_base, canned_model, knows, tmp_path, monkeypatch
):
    from lexitune.models import load_model, load_tokenizer
    from lexitune.train import arithmetic

    monkeypatch.setattr(arithmetic, "arithmetic_prompts", lambda config, n: ["What is 7 times 5?"] * n)
    tiny_config.experimental.replay_arithmetic = 0.5
    tiny_config.train.replay_max_new_tokens = 64
    run = RunDir(tmp_path / "run")
    if knows:  # a model that answers 35 and ends its turn: every answer kept
        path = canned_model
        model, tokenizer = load_model(str(path)), load_tokenizer(str(path))
        tiny_config.model.name = str(path)
    else:  # the random tiny model never answers 35
        model, tokenizer = tiny_base
    rows = replay_conversations(model, tokenizer, tiny_config, run, [], n_glossary=8)
    assert (run.data / "replay_arithmetic.jsonl").exists() and not (run.data / "replay_known.jsonl").exists()
    if knows:
        assert len(rows) == 4 and all(c.style == "replay/arithmetic" and c.answer == CANNED_ANSWER for c in rows)
    else:
        assert rows == []
