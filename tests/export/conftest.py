"""Exports of the tuned tiny run, made once and shared by the export tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def held_out(tuned_run):
    from lexitune.generate import read_conversations
    from lexitune.generate.split import family
    from lexitune.rundir import RunDir

    # The forward held-out questions: the reverse and sealed families ask nothing an export changes.
    test = read_conversations(RunDir(tuned_run).test_data)
    return [c.prompt_messages() for c in test if family(c.style) == "forward"]


@pytest.fixture(scope="session")
def tuned_answers(tuned_run, held_out):
    """base+adapter (peft, unmerged) answers, and the base model's, to the held-out questions."""
    from lexitune.inference import load_trained
    from lexitune.inference.generation import answer_questions
    from lexitune.rundir import RunDir

    model, tokenizer, _ = load_trained(RunDir(tuned_run))
    tuned = answer_questions(model, tokenizer, held_out, max_new_tokens=8)
    with model.disable_adapter():
        base = answer_questions(model, tokenizer, held_out, max_new_tokens=8)
    return tuned, base


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("exports")
