"""BestWeights: the one keep-the-best mechanism behind the learning curve and selection."""

import torch

from lexitune.train.best import BestWeights


def test_keeps_the_best_trainable_weights_and_counts_patience():
    model = torch.nn.Linear(2, 2)
    model.bias.requires_grad_(False)
    best = BestWeights(model, patience=2)
    with torch.no_grad():
        model.weight.fill_(1.0)
        assert best.offer(0.5, step=1)
        model.weight.fill_(2.0)
        assert not best.offer(0.5, step=2)  # a tie is no improvement
        assert not best.exhausted
        model.weight.fill_(3.0)
        model.bias.fill_(7.0)
        assert not best.offer(0.1, step=3)
    assert best.exhausted and (best.score, best.step) == (0.5, 1)
    assert best.restore(last_step=3)
    assert torch.equal(model.weight, torch.ones(2, 2))
    assert torch.equal(model.bias, torch.full((2,), 7.0))  # frozen weights are not copied
    assert not best.restore(last_step=1)  # the last step is the best: nothing to put back


def test_without_patience_never_stops_and_without_keep_copies_nothing():
    model = torch.nn.Linear(2, 2)
    best = BestWeights(model, keep=False)
    assert best.offer(1.0, step=1)
    for step in range(2, 10):
        best.offer(0.0, step)
    assert not best.exhausted and not best.restore(last_step=9)
