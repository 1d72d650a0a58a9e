"""Sharing the common prefix changes the work, not the result: same loss, same gradients."""

import torch

from lexitune.config import TrainConfig
from lexitune.generate import generate_conversations
from lexitune.glossary import load_from_config
from lexitune.models import load_model, load_tokenizer
from lexitune.train.adapters import prepare_model
from lexitune.train.data import collate, tokenize_all
from lexitune.train.shared_prefix import answer_loss_sum, shared_prefix_length


def _batch_and_model(tiny_config):
    tokenizer = load_tokenizer(tiny_config.model.name)
    train_set, _ = generate_conversations(load_from_config(tiny_config.glossary), tiny_config.generate, 0)
    examples = tokenize_all(tokenizer, train_set, 256)
    batch = collate(examples[:6], tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = prepare_model(load_model(tiny_config.model.name), TrainConfig())
    for name, p in model.named_parameters():  # LoRA's B starts at zero: make the adapter matter
        if "lora_B" in name:
            p.data.normal_(0, 0.05)
    return batch, model


def _loss_and_grads(model, batch, share):
    model.zero_grad()
    loss = answer_loss_sum(model, batch, share_prefix=share)
    loss.backward()
    return loss.item(), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def test_shared_prefix_gives_the_same_loss_and_gradients(tiny_config):
    batch, model = _batch_and_model(tiny_config)
    prefix = shared_prefix_length(batch)
    assert prefix >= 20, f"SmolLM2's system prompt and headers should be shared, got {prefix} tokens"
    assert (batch["labels"][:, : prefix + 1] == -100).all()
    loss_full, grads_full = _loss_and_grads(model, batch, share=False)
    loss_shared, grads_shared = _loss_and_grads(model, batch, share=True)
    assert abs(loss_full - loss_shared) < 1e-4 * abs(loss_full)
    for name, grad in grads_full.items():
        torch.testing.assert_close(grads_shared[name], grad, rtol=1e-3, atol=1e-6, msg=name)


def test_no_prefix_for_a_single_row_or_differing_rows():
    ids = torch.tensor([[1, 2, 3, 4, 5, 6, 7, 8], [9, 2, 3, 4, 5, 6, 7, 8]])
    batch = {"input_ids": ids, "labels": ids.clone(), "attention_mask": torch.ones_like(ids)}
    assert shared_prefix_length(batch) == 0
    assert shared_prefix_length({k: v[:1] for k, v in batch.items()}) == 0
