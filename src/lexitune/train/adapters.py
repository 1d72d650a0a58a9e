"""Wrap a base model for the chosen training method: LoRA (default), DoRA, QLoRA, or full fine-tuning.

python -c "from lexitune.train.adapters import prepare_model"
"""

from __future__ import annotations

from lexitune.config import TrainConfig


def prepare_model(model, cfg: TrainConfig):
    """Return the model to train; for LoRA/DoRA a peft model whose base weights stay frozen."""
    if cfg.method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    from peft import LoraConfig, get_peft_model

    if cfg.method == "qlora":
        from lexitune.train.quantized import prepare_for_lora

        model = prepare_for_lora(model)

    lora = LoraConfig(
        r=cfg.lora.r,
        lora_alpha=cfg.lora.alpha,
        lora_dropout=cfg.lora.dropout,
        target_modules=cfg.lora.target_modules,
        use_dora=cfg.method == "dora",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def trainable_state_dict(model) -> dict:
    """Only what training changes: the adapter weights, or every weight for full fine-tuning."""
    return {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}


def load_trainable_state_dict(model, state: dict) -> None:
    params = dict(model.named_parameters())
    missing = [k for k in state if k not in params]
    assert not missing, f"checkpoint has weights the model lacks: {missing[:3]}"
    for k, v in state.items():
        params[k].data.copy_(v)
