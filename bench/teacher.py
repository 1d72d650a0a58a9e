"""What computing the distillation teacher once saves: the same training steps with and without it.

    python bench/teacher.py --steps 40 --repeats 2

An example's robust training set (glossary, negatives, replay with the base model's answers), then
`train()` for --steps steps from the same LoRA initialisation, alternately with the teacher computed
once before training (what lexitune does) and recomputed every step (the earlier code path), in one
process so that the machine's drift falls on both alike. Prints each pass's seconds and the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from pathlib import Path
from unittest import mock

import torch
from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from lexitune.config import load_config  # noqa: E402
from lexitune.generate.stage import prepare_data  # noqa: E402
from lexitune.models import load_model, load_tokenizer  # noqa: E402
from lexitune.rundir import RunDir  # noqa: E402
from lexitune.train import loop  # noqa: E402
from lexitune.train.adapters import prepare_model  # noqa: E402
from lexitune.train.data import tokenize_all  # noqa: E402
from lexitune.train.replay import replay_conversations  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", default="culinary-fr")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=2)
    a = parser.parse_args()
    config = load_config(ROOT / "examples" / a.example / "lexitune.yaml", [])
    console = Console(stderr=True)
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir(Path(tmp) / "run")
        run.root.mkdir()
        terms, train_set, _ = prepare_data(config, run, console)
        tokenizer = load_tokenizer(config.model.name)
        base = load_model(config.model.name, training=True)
        n_glossary = sum(not c.style.startswith("negative/") for c in train_set)
        train_set += replay_conversations(base, tokenizer, config, run, terms, n_glossary)
        cfg = config.train.model_copy(update={"max_steps": a.steps, "save_every": 0})
        seconds: dict[str, list[float]] = {"once": [], "every step": []}
        for _ in range(a.repeats):
            for variant in seconds:
                examples = tokenize_all(tokenizer, train_set, cfg.max_length, distill_replay=True)
                torch.manual_seed(config.seed)
                model = prepare_model(load_model(config.model.name, training=True), cfg)
                skip = mock.patch.object(loop, "attach_teacher", lambda *_, **__: 0)
                with skip if variant == "every step" else contextlib.nullcontext():
                    result = loop.train(model, examples, cfg, Path(tmp) / variant, pad_id=tokenizer.pad_token_id)
                seconds[variant].append(result.seconds)
                print(f"{variant:>10}: {result.seconds:7.1f} s  {result.tokens_per_second:6.1f} tokens/s", flush=True)
    once, every = statistics.median(seconds["once"]), statistics.median(seconds["every step"])
    distilled = sum(c.style.startswith("replay") for c in train_set)
    print(
        f"{a.example}: {len(train_set)} rows, {distilled} distilled; {a.steps} steps, {result.precision}; "
        f"median {once:.1f} s with the teacher once, {every:.1f} s every step: {every / once:.2f}x"
    )


if __name__ == "__main__":
    main()
