"""Preference tuning (DPO, ORPO) after SFT, on pairs the run makes from its own training data."""

from __future__ import annotations

import pytest
import torch
from rich.console import Console


@pytest.fixture
def sft(tiny_config, tmp_path):
    """A tiny model after SFT on the glossary and negatives, and replay conversations (the base
    model's own answers) it was not trained on, so that it answers them otherwise."""
    from lexitune.generate.stage import prepare_data
    from lexitune.models import load_model, load_tokenizer
    from lexitune.pipeline import start_run
    from lexitune.train.replay import replay_conversations
    from lexitune.train.stage import train_stage

    tiny_config.generate.negatives = 0.5
    tiny_config.train.replay_max_new_tokens = 8
    tiny_config.train.max_steps = 30
    tiny_config.train.learning_rate = 1e-2
    run = start_run(tiny_config, tmp_path / "run", resume=False)
    terms, train_set, test_set = prepare_data(tiny_config, run, Console(quiet=True))
    tokenizer = load_tokenizer(tiny_config.model.name)
    base = load_model(tiny_config.model.name)
    tiny_config.train.replay_ratio = 0.25
    replay = replay_conversations(base, tokenizer, tiny_config, run, terms, len(train_set))
    tiny_config.train.replay_ratio = 0.0
    model, _ = train_stage(tiny_config, run, base, tokenizer, train_set, resume=False, console=Console(quiet=True))
    return tiny_config, run, model, tokenizer, terms, train_set + replay, test_set


def test_pairs_cover_each_failure_and_never_a_held_out_question(sft):
    from lexitune.train.preference import build_pairs

    config, _, model, tokenizer, terms, train_set, test_set = sft
    pairs = build_pairs(model, tokenizer, config, terms, train_set)
    assert {p.kind for p in pairs} == {"glossary", "negative", "general"}
    held_out = {c.question for c in test_set}
    assert not {p.prompt[-1]["content"] for p in pairs} & held_out
    trained = {(c.question, c.answer) for c in train_set}
    assert all((p.prompt[-1]["content"], p.chosen) in trained for p in pairs)  # chosen: what training says
    assert all(p.rejected.strip() != p.chosen.strip() for p in pairs)


@pytest.mark.parametrize("method", ["dpo", "orpo"])
def test_preference_tuning_moves_the_chosen_answers_above_the_rejected(method, sft):
    from lexitune.train.data import collate
    from lexitune.train.preference import _examples, answer_logps, build_pairs, preference_tune

    config, run, model, tokenizer, terms, train_set, _ = sft
    config.train.preference = method
    config.train.preference_learning_rate = 5e-3
    config.train.preference_epochs = 3
    config.train.precision = "fp32"
    pairs = build_pairs(model, tokenizer, config, terms, train_set)

    def margin() -> float:
        with torch.no_grad():
            c, cn = answer_logps(model, collate(_examples(tokenizer, pairs, "chosen", 256), tokenizer.pad_token_id))
            r, rn = answer_logps(model, collate(_examples(tokenizer, pairs, "rejected", 256), tokenizer.pad_token_id))
        return float((c / cn - r / rn).mean())

    before = margin()
    info = preference_tune(model, tokenizer, config, run, terms, train_set, Console(quiet=True))
    after = margin()
    assert info["pairs"] == len(pairs) and info["steps"] >= 1
    assert after > before + 0.1, (before, after, info)
    assert (run.data / "preference.jsonl").exists()


def test_the_orpo_odds_term_and_dpo_reference_are_what_the_papers_write():
    from lexitune.train.preference import preference_loss

    chosen = (torch.tensor([-2.0]), torch.tensor([2]))  # mean log-prob -1
    rejected = (torch.tensor([-6.0]), torch.tensor([2]))  # mean -3
    dpo = preference_loss("dpo", 0.5, chosen, rejected, torch.tensor([-3.0]), torch.tensor([-5.0]))
    # margin = (-2 - -3) - (-6 - -5) = 2; loss = -log sigmoid(0.5 * 2)
    assert float(dpo) == pytest.approx(-torch.nn.functional.logsigmoid(torch.tensor(1.0)).item())
    orpo = preference_loss("orpo", 0.1, chosen, rejected)
    odds = lambda m: m - torch.log1p(-torch.exp(torch.tensor(m)))  # noqa: E731
    expected = 1.0 + 0.1 * -torch.nn.functional.logsigmoid(odds(-1.0) - odds(-3.0))
    assert float(orpo) == pytest.approx(float(expected))
