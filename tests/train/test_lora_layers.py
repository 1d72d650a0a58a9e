"""`experimental.lora_layers`: LoRA on the top share of the layers only, and no gradient below."""

import torch

from lexitune.config import TrainConfig
from lexitune.models import load_model
from lexitune.train.adapters import prepare_model


def _layers_with_lora(model) -> set[int]:
    return {int(n.split(".layers.")[1].split(".")[0]) for n, p in model.named_parameters() if p.requires_grad}


def test_every_layer_by_default_and_the_top_share_when_asked(tiny_model_dir):
    n = load_model(str(tiny_model_dir)).config.num_hidden_layers
    assert n >= 2
    every = prepare_model(load_model(str(tiny_model_dir)), TrainConfig())
    assert _layers_with_lora(every) == set(range(n))
    top = prepare_model(load_model(str(tiny_model_dir)), TrainConfig(), top_layers=0.5)
    assert _layers_with_lora(top) == set(range(n - round(n * 0.5), n))
    kinds = {n.split(".")[-4] for n, p in top.named_parameters() if p.requires_grad and "lora_A" in n}
    assert kinds == {n.split(".")[-4] for n, p in every.named_parameters() if p.requires_grad and "lora_A" in n}


def test_the_bottom_layers_get_no_gradient(tiny_model_dir):
    model = prepare_model(load_model(str(tiny_model_dir)), TrainConfig(), top_layers=0.5)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.1)
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    model(input_ids=ids, labels=ids).loss.backward()
    assert all(p.grad is None for p in model.parameters() if not p.requires_grad)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
