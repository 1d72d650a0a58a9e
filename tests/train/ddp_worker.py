"""Train the tiny model for a few steps and save the adapter weights; run alone or under accelerate launch.

accelerate launch --cpu --num_processes 2 tests/train/ddp_worker.py MODEL_DIR GLOSSARY OUT.pt
"""

import sys
from pathlib import Path

import torch
from rich.console import Console

from lexitune.config import load_config
from lexitune.generate import generate_conversations
from lexitune.glossary import load_from_config
from lexitune.models import load_model, load_tokenizer
from lexitune.train.adapters import prepare_model, trainable_state_dict
from lexitune.train.data import tokenize_all
from lexitune.train.distributed import current_world
from lexitune.train.loop import train


def main(model_dir: str, glossary: str, out: str) -> None:
    cfg = load_config(
        None,
        [
            f"model.name={model_dir}",
            f"glossary.path={glossary}",
            "generate.language=fr",
            "train.batch_size=6",
            "train.max_steps=3",
            "train.threads=1",
        ],
    )
    tokenizer = load_tokenizer(model_dir)
    train_set, _ = generate_conversations(load_from_config(cfg.glossary), cfg.generate, 0)
    examples = tokenize_all(tokenizer, train_set, cfg.train.max_length)
    torch.manual_seed(0)
    model = prepare_model(load_model(model_dir), cfg.train)
    run_dir = Path(out).parent / f"run-{current_world().rank}"
    run_dir.mkdir(parents=True, exist_ok=True)
    result = train(model, examples, cfg.train, run_dir, pad_id=tokenizer.pad_token_id, console=Console(quiet=True))
    if current_world().is_main:
        torch.save({"weights": trainable_state_dict(model), "loss": result.final_loss, "tokens": result.tokens}, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
