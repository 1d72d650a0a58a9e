"""The learning curve's early stopping keeps the best weights, on the tiny model."""

from __future__ import annotations

import torch

from lexitune.evaluate.curve import LearningCurve, make_curve
from lexitune.generate import generate_conversations
from lexitune.glossary import load_from_config
from lexitune.models import load_model, load_tokenizer
from lexitune.rundir import RunDir
from lexitune.train.adapters import prepare_model


def test_best_weights_come_back_after_early_stopping(tiny_config, tmp_path):
    config = tiny_config.model_copy(deep=True)
    config.eval.curve_every, config.eval.curve_sample, config.train.early_stopping_patience = 1, 4, 2
    terms = load_from_config(config.glossary)
    _, test_set = generate_conversations(terms, config.generate, config.seed)
    run = RunDir(tmp_path)
    curve = make_curve(config, run, load_tokenizer(config.model.name), terms, test_set)
    assert isinstance(curve, LearningCurve) and len(curve.prompts) == 4
    model = prepare_model(load_model(config.model.name), config.train)
    curve.bind(model)
    model.train()
    lora = [p for p in model.parameters() if p.requires_grad]
    first = [p.detach().clone() for p in lora]
    assert curve({"step": 1, "loss": 1.0}) is False  # the first point is the best so far
    assert model.training, "answering the sample must leave the model in train mode"
    with torch.no_grad():
        for p in lora:
            p.add_(1.0)  # training moved on without doing better
    assert curve({"step": 2, "loss": 1.0}) is False
    assert curve({"step": 3, "loss": 1.0}) is True  # recall has not beaten its best for 2 points
    summary = curve.finish()
    assert summary["restored_best"] and summary["best_step"] == 1
    assert all(torch.equal(p, f) for p, f in zip(lora, first, strict=True))
    assert len(run.curve.read_text().splitlines()) == 3


def test_no_curve_unless_asked(tiny_config, tmp_path):
    assert make_curve(tiny_config, RunDir(tmp_path), None, [], []) is None
