"""The training loop on the tiny model: it learns, its loss is the standard one, and resume is exact."""

import json

import pytest
import torch

from lexitune.config import TrainConfig
from lexitune.generate.dataset import Conversation
from lexitune.models import load_model, load_tokenizer
from lexitune.train.adapters import prepare_model, trainable_state_dict
from lexitune.train.data import collate, tokenize_all
from lexitune.train.loop import answer_loss_sum, lr_lambda, train
from lexitune.train.precision import choose_precision, device_name


def conversations(n=6, styles=("s",)):
    """n one-turn conversations about terms T0…; row i has style styles[i % len(styles)]."""
    return [
        Conversation(
            term=f"T{i}",
            split="train",
            style=styles[i % len(styles)],
            messages=[
                {"role": "user", "content": f"What does T{i} mean?"},
                {"role": "assistant", "content": f"T{i} means thing number {i}."},
            ],
        )
        for i in range(n)
    ]


@pytest.fixture
def setup(tiny_model_dir):
    tokenizer = load_tokenizer(str(tiny_model_dir))
    examples = tokenize_all(tokenizer, conversations(), max_length=128)
    return tiny_model_dir, tokenizer, examples


def _fresh(tiny_model_dir, cfg):
    torch.manual_seed(0)
    return prepare_model(load_model(str(tiny_model_dir)), cfg)


def test_answer_loss_matches_the_standard_causal_lm_loss(setup):
    path, tokenizer, examples = setup
    model = load_model(str(path))
    batch = collate(examples[:3], tokenizer.pad_token_id)
    n = int((batch["labels"][:, 1:] != -100).sum())
    reference = model(**batch).loss  # transformers' mean over answer tokens, full logits
    assert answer_loss_sum(model, batch).item() / n == pytest.approx(reference.item(), rel=1e-4)


# A random tiny model has near-zero weights for LoRA to steer, so it learns slowly: the real
# model's end-to-end test checks that LoRA learns a glossary; here we check the loop optimises.
@pytest.mark.parametrize(("method", "lr", "drop"), [("full", 1e-2, 0.5), ("lora", 1e-2, 0.95)])
def test_training_lowers_the_loss_and_logs_every_step(setup, tmp_path, method, lr, drop):
    path, tokenizer, examples = setup
    cfg = TrainConfig(method=method, epochs=10, batch_size=3, learning_rate=lr, warmup_ratio=0.0)
    result = train(_fresh(path, cfg), examples, cfg, tmp_path, pad_id=tokenizer.pad_token_id)
    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert result.steps == 20 == len(log)
    assert log[-1]["loss"] < drop * log[0]["loss"]
    assert result.tokens == sum(len(e) for e in examples) * 10
    assert (tmp_path / "checkpoints" / "step-000020" / "state.json").exists()
    assert result.device == device_name(torch.device("cpu")) and result.device.endswith(" cores")


def test_resume_continues_exactly_where_the_run_stopped(setup, tmp_path):
    path, tokenizer, examples = setup
    cfg = TrainConfig(epochs=4, batch_size=2, grad_accum=2, learning_rate=5e-3, save_every=3)
    straight = _fresh(path, cfg)
    train(straight, examples, cfg, tmp_path / "a", pad_id=tokenizer.pad_token_id)

    stopped = _fresh(path, cfg)
    train(
        stopped, examples, cfg, tmp_path / "b", pad_id=tokenizer.pad_token_id, callbacks=[lambda row: row["step"] == 3]
    )
    resumed = _fresh(path, cfg)  # a new process: fresh weights, state comes from the checkpoint
    result = train(resumed, examples, cfg, tmp_path / "b", pad_id=tokenizer.pad_token_id, resume=True)
    assert result.resumed_from_step == 3 and result.steps == 8
    a, b = trainable_state_dict(straight), trainable_state_dict(resumed)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-6)
    log = [json.loads(line)["step"] for line in (tmp_path / "b" / "train_log.jsonl").read_text().splitlines()]
    assert log == list(range(1, 9))


def test_schedule_warms_up_then_decays():
    f = lr_lambda(TrainConfig(warmup_ratio=0.2, scheduler="cosine"), total_steps=10)
    values = [f(s) for s in range(10)]
    assert values[0] < values[1] <= 1.0 and values[2] == pytest.approx(1.0) and values[-1] < 0.1


def test_precision_explicit_choice_wins_and_auto_explains():
    assert choose_precision("bf16", torch.device("cpu")).dtype == torch.bfloat16
    assert choose_precision("fp32", torch.device("cpu")).dtype == torch.float32
    auto = choose_precision("auto", torch.device("cpu"))
    assert auto.name in {"bf16", "fp32"} and auto.reason


def test_lora_trains_only_adapter_weights(setup):
    path, _, _ = setup
    model = _fresh(path, TrainConfig())
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    full = prepare_model(load_model(str(path)), TrainConfig(method="full"))
    assert all(p.requires_grad for p in full.parameters())


@pytest.mark.slow
def test_compile_trains_the_same_weights_and_leaves_an_eager_model(setup, tmp_path):
    path, tokenizer, examples = setup
    # fp32 pinned: exact agreement is a property of one precision (bf16 differs by ~4e-3 on any CPU).
    cfg = TrainConfig(epochs=1, batch_size=3, learning_rate=5e-3, precision="fp32")
    eager = _fresh(path, cfg)
    train(eager, examples, cfg, tmp_path / "a", pad_id=tokenizer.pad_token_id)
    compiled_cfg = cfg.model_copy(update={"compile": True})
    compiled = _fresh(path, compiled_cfg)
    train(compiled, examples, compiled_cfg, tmp_path / "b", pad_id=tokenizer.pad_token_id)
    a, b = trainable_state_dict(eager), trainable_state_dict(compiled)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-3, atol=1e-5)
    # Compilation is for training only: generation afterwards runs the class's eager forward.
    assert not any("forward" in vars(m) for m in compiled.modules())


def test_the_suite_can_run_as_the_other_kind_of_cpu(monkeypatch):
    from lexitune.train.precision import choose_precision

    for forced, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        monkeypatch.setenv("LEXITUNE_FORCE_PRECISION", forced)
        assert choose_precision("auto", torch.device("cpu")).dtype == dtype
        assert choose_precision("fp32", torch.device("cpu")).dtype == torch.float32  # explicit still wins


def test_resume_after_a_kill_cuts_the_log_back_to_the_checkpoint(setup, tmp_path):
    """A SIGKILL after step 5 leaves log rows 4-5 and a half-written line past the checkpoint of
    step 3: the resumed run must log each step once, and the report must read the log."""
    path, tokenizer, examples = setup
    cfg = TrainConfig(epochs=4, batch_size=2, grad_accum=2, learning_rate=5e-3, save_every=3)
    run = tmp_path / "killed"
    train(
        _fresh(path, cfg), examples, cfg, run, pad_id=tokenizer.pad_token_id, callbacks=[lambda row: row["step"] == 5]
    )
    import shutil

    shutil.rmtree(run / "checkpoints" / "step-000005")  # the kill came before this save
    with (run / "train_log.jsonl").open("a") as log:
        log.write('{"step": 6, "loss": 0.')  # the write the kill interrupted
    result = train(_fresh(path, cfg), examples, cfg, run, pad_id=tokenizer.pad_token_id, resume=True)
    assert result.resumed_from_step == 3
    log = [json.loads(line)["step"] for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert log == list(range(1, 9))


def test_a_checkpoint_saved_again_replaces_the_old_copy_only_once_written(setup, tmp_path, monkeypatch):
    from lexitune.train import checkpoint

    path, tokenizer, examples = setup
    cfg = TrainConfig(max_steps=1, batch_size=2)
    model = _fresh(path, cfg)
    train(model, examples, cfg, tmp_path, pad_id=tokenizer.pad_token_id)
    saved = tmp_path / "checkpoints" / "step-000001"
    before = (saved / "trainable.safetensors").read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint, "save_file", full_disk)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad])
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    with pytest.raises(OSError, match="No space"):
        checkpoint.save_checkpoint(tmp_path / "checkpoints", 1, model, optimizer, scheduler, {"tokens": 0})
    assert (saved / "trainable.safetensors").read_bytes() == before  # the last good checkpoint survives
    assert checkpoint.latest_checkpoint(tmp_path / "checkpoints") == saved
    assert not list((tmp_path / "checkpoints").glob(".*"))  # no half-written folder left behind
