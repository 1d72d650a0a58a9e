"""The frozen lower layers computed once: the same loss and gradients as running the whole model."""

import pytest
import torch

from lexitune.config import TrainConfig
from lexitune.generate.dataset import Conversation
from lexitune.models import load_model, load_tokenizer
from lexitune.train import frozen_lower
from lexitune.train.adapters import prepare_model
from lexitune.train.data import collate, tokenize_all
from lexitune.train.frozen_lower import first_adapted_layer, lower_hidden, pad_lower
from lexitune.train.loop import train
from lexitune.train.shared_prefix import answer_loss_sum


def _conversations() -> list[Conversation]:
    return [
        Conversation(
            term="" if i % 2 else f"T{i}",
            split="train",
            style="replay" if i % 2 else "s",
            messages=[
                {"role": "user", "content": f"Question {i}?" + " More words." * (i % 3)},
                {"role": "assistant", "content": f"Answer {i} is a sentence" + " again" * i + "."},
            ],
        )
        for i in range(6)
    ]


@pytest.fixture
def setup(tiny_model_dir):
    tokenizer = load_tokenizer(str(tiny_model_dir))
    examples = tokenize_all(tokenizer, _conversations(), 128, distill_replay=True)
    torch.manual_seed(0)
    model = prepare_model(load_model(str(tiny_model_dir)), TrainConfig(), top_layers=0.5)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.3)  # a moved adapter, so the distilled rows' KL is not zero
    return model, tokenizer, examples


def _loss_and_grads(model, batch, share, from_layer):
    model.zero_grad()
    loss = answer_loss_sum(model, batch, share, 2.0, from_layer)
    loss.backward()
    return loss.item(), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("share", [True, False])
def test_the_cached_input_gives_the_whole_models_loss_and_gradients(setup, share):
    model, tokenizer, examples = setup
    layer = first_adapted_layer(model)
    assert layer == 1  # the tiny model has 2 layers; LoRA on the top one
    batch = collate(examples, tokenizer.pad_token_id)
    assert batch["distill"].any() and not batch["distill"].all()
    whole, whole_grads = _loss_and_grads(model, batch, share, 0)
    cached = dict(batch, lower_hidden=pad_lower(lower_hidden(model, examples, layer), batch["input_ids"].shape[1]))
    part, part_grads = _loss_and_grads(model, cached, share, layer)
    assert part == pytest.approx(whole, rel=1e-5)
    for name, grad in whole_grads.items():
        assert torch.allclose(part_grads[name], grad, atol=1e-5, rtol=1e-4), name


def test_the_lower_layers_are_restored_after_a_step(setup):
    model, tokenizer, examples = setup
    decoder = model.get_base_model().get_decoder()
    before = list(decoder.layers)
    batch = collate(examples, tokenizer.pad_token_id)
    batch["lower_hidden"] = pad_lower(lower_hidden(model, examples, 1), batch["input_ids"].shape[1])
    answer_loss_sum(model, batch, True, 1.0, 1)
    assert list(decoder.layers) == before


def test_every_layer_adapted_caches_nothing(tiny_model_dir):
    assert first_adapted_layer(prepare_model(load_model(str(tiny_model_dir)), TrainConfig())) == 0
    assert first_adapted_layer(prepare_model(load_model(str(tiny_model_dir)), TrainConfig(method="full"))) == 0


def test_training_with_the_cache_ends_where_training_without_it_does(setup, tiny_model_dir, tmp_path, monkeypatch):
    _, tokenizer, examples = setup
    cfg = TrainConfig(epochs=2, batch_size=3, learning_rate=1e-2, warmup_ratio=0.0)
    from lexitune.train import loop

    calls = []
    monkeypatch.setattr(loop, "lower_hidden", lambda *a, **k: calls.append(1) or lower_hidden(*a, **k))

    def trained(run, max_bytes):
        monkeypatch.setattr(frozen_lower, "MAX_BYTES", max_bytes)
        torch.manual_seed(0)
        model = prepare_model(load_model(str(tiny_model_dir)), cfg, top_layers=0.5)
        train(model, examples, cfg, tmp_path / run, pad_id=tokenizer.pad_token_id, distill_weight=1.0)
        return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}

    cached = trained("cached", frozen_lower.MAX_BYTES)
    assert calls == [1]  # computed once for the whole run
    whole = trained("whole", 0)
    assert calls == [1]  # over the memory limit: not cached
    assert cached.keys() == whole.keys()
    for name, weight in whole.items():
        assert torch.allclose(cached[name], weight, atol=1e-5), name
    assert any((w.abs() > 0).any() for n, w in whole.items() if "lora_B" in n)  # training moved the adapter
