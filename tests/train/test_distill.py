"""Replay rows flagged for distillation take KL toward the base model (the adapter switched off)."""

import pytest
import torch

from lexitune.config import TrainConfig
from lexitune.generate.dataset import Conversation
from lexitune.models import load_model, load_tokenizer
from lexitune.train.adapters import prepare_model
from lexitune.train.data import collate, tokenize_all
from lexitune.train.shared_prefix import answer_loss_sum, base_answer_logits, shared_prefix_length


def _conversation(i: int, style: str) -> Conversation:
    return Conversation(
        term="" if style == "replay" else f"T{i}",
        split="train",
        style=style,
        messages=[
            {"role": "user", "content": f"Question number {i}?"},
            {"role": "assistant", "content": f"Answer number {i} is a sentence."},
        ],
    )


@pytest.fixture
def lora_and_batch(tiny_model_dir):
    tokenizer = load_tokenizer(str(tiny_model_dir))
    conversations = [
        _conversation(0, "s"),
        _conversation(1, "replay"),
        _conversation(2, "s"),
        _conversation(3, "replay"),
    ]
    examples = tokenize_all(tokenizer, conversations, 128, distill_replay=True)
    assert [e.distill for e in examples] == [False, True, False, True]
    torch.manual_seed(0)
    model = prepare_model(load_model(str(tiny_model_dir)), TrainConfig(replay_distill=True))
    return model, collate(examples, tokenizer.pad_token_id)


def test_distilled_rows_cost_nothing_while_the_adapter_is_a_no_op(lora_and_batch):
    model, batch = lora_and_batch  # LoRA starts with B = 0: the tuned model is the base model
    plain = {k: v for k, v in batch.items() if k != "distill"}
    only_ce = {k: v[~batch["distill"]] for k, v in plain.items()}
    for share in (True, False):
        loss = answer_loss_sum(model, batch, share_prefix=share)
        assert loss.item() == pytest.approx(answer_loss_sum(model, only_ce, share_prefix=share).item(), rel=1e-5)
        assert loss.item() < answer_loss_sum(model, plain, share_prefix=share).item()


def test_a_moved_adapter_pays_kl_on_distilled_rows_and_gets_a_gradient(lora_and_batch):
    model, batch = lora_and_batch
    replay_only = {k: v[batch["distill"]] for k, v in batch.items()}
    assert answer_loss_sum(model, replay_only).item() == pytest.approx(0.0, abs=1e-5)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    loss = answer_loss_sum(model, replay_only)
    assert loss.item() > 1e-3
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for n, p in model.named_parameters() if "lora_B" in n)


def test_the_teachers_shared_prefix_gives_the_full_sequences_logits(lora_and_batch):
    model, batch = lora_and_batch
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)  # the teacher must still be the base model, adapter or not
    rows = {k: v[batch["distill"]] for k, v in batch.items() if k != "distill"}
    assert shared_prefix_length(rows) > 0  # the chat template's system turn
    shared, full = base_answer_logits(model, rows, True), base_answer_logits(model, rows, False)
    assert shared.shape == full.shape and torch.allclose(shared, full, atol=1e-4)


def test_a_full_fine_tune_trains_replay_on_the_base_answers_text(tiny_config, tmp_path):
    """No adapter to switch off, so no base distribution: the robust recipe's replay still runs, as text."""
    import json

    from lexitune.pipeline import run_pipeline
    from lexitune.rundir import RunDir

    tiny_config.train.method = "full"
    tiny_config.train.replay_ratio = 0.5
    tiny_config.train.replay_distill = True
    tiny_config.train.replay_max_new_tokens = 8
    tiny_config.train.max_steps = 2
    tiny_config.eval.probes = False
    run_pipeline(tiny_config, tmp_path / "run")
    info = json.loads(RunDir(tmp_path / "run").train_result.read_text())
    assert info["replay_distill"] is False and info["examples"]["replay"] > 0
