"""Frozen weights held in bf16 under bf16 autocast: the same loss and gradients, the model left as loaded."""

import pytest
import torch

from lexitune.config import TrainConfig
from lexitune.models import load_model, load_tokenizer
from lexitune.train import loop, precision
from lexitune.train.adapters import prepare_model, trainable_state_dict
from lexitune.train.data import collate, tokenize_all
from lexitune.train.frozen_cast import FrozenBf16
from lexitune.train.shared_prefix import answer_loss_sum
from tests.train.test_loop import conversations


def _examples(tokenizer, n=6):
    # odd rows distil toward the base (a teacher pass)
    return tokenize_all(tokenizer, conversations(n, styles=("s", "replay")), max_length=128, distill_replay=True)


def _lora(path, method="lora"):
    torch.manual_seed(0)
    model = prepare_model(load_model(str(path)), TrainConfig(method=method))
    for name, param in model.named_parameters():  # B starts at zero: give the adapter a say
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.05)
    return model


def _loss_and_grads(model, batch, frozen):
    model.zero_grad(set_to_none=True)
    with frozen:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = answer_loss_sum(model, batch)
        loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def test_the_same_loss_and_gradients_as_autocast_alone(tiny_model_dir):
    tokenizer = load_tokenizer(str(tiny_model_dir))
    batch = collate(_examples(tokenizer)[:4], tokenizer.pad_token_id)
    assert batch["distill"].tolist() == [False, True, False, True]  # the replay teacher's pass too
    model = _lora(tiny_model_dir)
    frozen = FrozenBf16(model)
    # every frozen projection of both layers and the (tied) LM head; no LoRA weight
    assert len(frozen) == 2 * 7 + 1
    plain_loss, plain_grads = _loss_and_grads(model, batch, FrozenBf16(model, enabled=False))
    loss, grads = _loss_and_grads(model, batch, frozen)
    assert torch.equal(loss, plain_loss)
    assert plain_grads.keys() == grads.keys()
    assert all(torch.equal(grads[n], plain_grads[n]) for n in grads)


def test_leaving_puts_the_loaded_weights_back_and_keeps_the_embeddings_fp32(tiny_model_dir):
    model = _lora(tiny_model_dir)
    base = model.get_base_model()
    head, embeddings = base.get_output_embeddings(), base.get_input_embeddings()
    assert head.weight is embeddings.weight  # the tiny model ties them, as SmolLM2 does
    before = {n: p for n, p in model.named_parameters()}
    frozen = FrozenBf16(model)
    with frozen:
        assert head.weight.dtype == torch.bfloat16
        assert embeddings.weight.dtype == torch.float32  # autocast never casts an embedding lookup
        assert all(p.dtype == torch.float32 for n, p in model.named_parameters() if p.requires_grad)
    assert {n: p for n, p in model.named_parameters()} == before  # the same Parameter objects
    assert head.weight is embeddings.weight
    with pytest.raises(RuntimeError), frozen:
        raise RuntimeError("a step that fails")
    assert head.weight is embeddings.weight and head.weight.dtype == torch.float32


def test_trainable_weights_are_never_swapped(tiny_model_dir):
    assert len(FrozenBf16(_lora(tiny_model_dir, "full"))) == 0
    assert len(FrozenBf16(_lora(tiny_model_dir), enabled=False)) == 0


def test_a_bf16_run_trains_the_same_adapter_with_and_without_it(tiny_model_dir, tmp_path, monkeypatch):
    tokenizer = load_tokenizer(str(tiny_model_dir))
    examples = _examples(tokenizer)
    cfg = TrainConfig(epochs=2, batch_size=3, learning_rate=5e-3, precision="bf16")

    def run(folder):
        model = _lora(tiny_model_dir)
        result = loop.train(model, examples, cfg, folder, pad_id=tokenizer.pad_token_id)
        return result, trainable_state_dict(model), model

    with_it, adapter, model = run(tmp_path / "a")
    # the loaded weights are back after training: evaluation runs the model as loaded
    assert all(p.dtype == torch.float32 for p in model.parameters())
    monkeypatch.setattr(precision, "FrozenBf16", lambda model, enabled: FrozenBf16(model, enabled=False))
    without, reference, _ = run(tmp_path / "b")
    assert with_it.precision == without.precision == "bf16"
    assert with_it.final_loss == without.final_loss
    assert all(torch.equal(adapter[k], reference[k]) for k in reference)


def test_a_step_holds_frozen_weights_in_bf16_only_for_lora_under_bf16(tiny_model_dir):
    bf16 = precision.Precision(torch.bfloat16, "test")
    fp32 = precision.Precision(torch.float32, "test")
    cpu = torch.device("cpu")
    assert len(precision.StepPrecision(_lora(tiny_model_dir), bf16, cpu, "lora").frozen) == 2 * 7 + 1
    assert len(precision.StepPrecision(_lora(tiny_model_dir), fp32, cpu, "lora").frozen) == 0
    # DoRA reads its base weights for its norm: they stay as loaded
    assert len(precision.StepPrecision(_lora(tiny_model_dir, "dora"), bf16, cpu, "dora").frozen) == 0
    model = _lora(tiny_model_dir)
    step = precision.StepPrecision(model, bf16, cpu, "lora")
    with step.without_grad():
        assert not torch.is_grad_enabled() and torch.is_autocast_enabled("cpu")
    assert torch.is_grad_enabled() and not torch.is_autocast_enabled("cpu")
    # nothing is swapped until `with`: a context made but never entered leaves fp32 weights
    context = step.around(8)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    with context:
        assert any(p.dtype == torch.bfloat16 for p in model.parameters())
    assert all(p.dtype == torch.float32 for p in model.parameters())
