"""The `train` stage: add the replay conversations, attach the adapter, train, save the weights.

lexitune train examples/culinary-fr/lexitune.yaml --out runs/culinary
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import torch
from rich.console import Console

from lexitune.config import Config
from lexitune.generate.dataset import Conversation
from lexitune.inference import load_terms
from lexitune.inference.load import DEFAULT_HF_ID
from lexitune.models import DEFAULT_MODEL
from lexitune.rundir import RunDir, atomic_dir, write_json
from lexitune.stopwatch import Stopwatch
from lexitune.train.adapters import prepare_model
from lexitune.train.data import tokenize_all
from lexitune.train.distributed import current_world
from lexitune.train.loop import TrainResult, _steps_per_epoch, train
from lexitune.train.replay import replay_conversations
from lexitune.train.selection import Selector


def train_stage(
    config: Config,
    run: RunDir,
    model,
    tokenizer,
    train_set: list[Conversation],
    *,
    resume: bool,
    console: Console,
    callbacks=None,
    curve=None,
    stopwatch: Stopwatch | None = None,
) -> tuple[object, TrainResult]:
    """Train `model` (the untuned base); with a learning `curve`, measure recall while training and
    keep the best weights. Returns the tuned model and what training did."""
    terms = load_terms(run)
    # Replay answers come from the base model, so they are written before the adapter exists.
    n_glossary = sum(not c.style.startswith("negative/") for c in train_set)
    stopwatch = stopwatch or Stopwatch()
    with stopwatch.stage("replay_answers"):
        train_set = train_set + replay_conversations(model, tokenizer, config, run, terms, n_glossary)
    with stopwatch.stage("training"):
        return _train(config, run, model, tokenizer, train_set, terms, resume, console, callbacks, curve)


def _train(
    config: Config,
    run: RunDir,
    model,
    tokenizer,
    train_set: list[Conversation],
    terms,
    resume: bool,
    console: Console,
    callbacks,
    curve,
) -> tuple[object, TrainResult]:
    torch.manual_seed(config.seed)  # LoRA's initial weights
    model = prepare_model(model, config.train)
    if curve is not None:
        curve.bind(model)
        callbacks = [*(callbacks or []), curve]
    # The base's distribution comes from switching the adapter off: a full fine-tune has none, so
    # its replay rows are trained on the base model's greedy text instead (train.json says so).
    distill = config.train.replay_distill and config.train.method != "full"
    if config.train.replay_distill and not distill:
        console.print("replay: full fine-tuning trains on the base model's answers as text (no adapter to switch off)")
    examples = tokenize_all(tokenizer, train_set, config.train.max_length, distill)
    selector = None
    if config.experimental.select:
        total = config.train.max_steps or max(
            1, math.ceil(_steps_per_epoch(len(examples), config.train) * config.train.epochs)
        )
        selector = Selector(model, tokenizer, config, terms, train_set, total)
        callbacks = [*(callbacks or []), selector]
    result = train(
        model,
        examples,
        config.train,
        run.root,
        pad_id=tokenizer.pad_token_id,
        seed=config.seed,
        resume=resume,
        callbacks=callbacks,
        console=console,
    )
    info = asdict(result)
    info["examples"] = _example_counts(train_set)
    info["replay_distill"] = distill
    if curve is not None:
        info["curve"] = curve.finish()
        if info["curve"]["restored_best"]:
            console.print(
                f"kept the best weights: step {info['curve']['best_step']}, curve recall {info['curve']['best_exact_recall']:.2f}"
            )
    if selector is not None:
        write_json(run.selection, selector.restore_best())
    if config.train.preference != "none":  # after the best SFT weights are restored: tuned from them
        from lexitune.train.preference import preference_tune

        info["preference"] = preference_tune(model, tokenizer, config, run, terms, train_set, console)
    if current_world().is_main:  # under `accelerate launch` every process trained the same weights
        save_trained(model, tokenizer, config, run)
        write_json(run.train_result, info)
    return model, result


def _example_counts(train_set: list[Conversation]) -> dict[str, int]:
    """Training conversations by kind (glossary, negative, replay...): what the recipe mixed."""
    counts: dict[str, int] = {}
    for c in train_set:
        kind = c.style if c.style.startswith("replay") else c.style.split("/")[0] if "/" in c.style else "glossary"
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def save_trained(model, tokenizer, config: Config, run: RunDir) -> Path:
    """adapter/ in PEFT format (or model/ for full fine-tuning), with tokenizer and chat template."""
    target = run.full_model if config.train.method == "full" else run.adapter
    if config.train.method != "full" and config.model.name == DEFAULT_MODEL:
        # Name the public model, not this machine's cache path, so peft can load the adapter anywhere.
        for peft_config in model.peft_config.values():
            peft_config.base_model_name_or_path = DEFAULT_HF_ID
    # Embeddings are frozen under LoRA; saying so skips peft's online check of the base config.
    with atomic_dir(target) as tmp:  # a crash mid-save leaves the previous weights, or none, never half
        model.save_pretrained(tmp, **({} if config.train.method == "full" else {"save_embedding_layers": False}))
        tokenizer.save_pretrained(tmp)
    return target
