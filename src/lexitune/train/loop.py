"""The training loop: supervised fine-tuning with the loss on answer tokens only.

Ours rather than a Trainer's because on a CPU every wasted FLOP shows: the vocabulary projection
runs only on positions that carry loss, batches are grouped by length, the precision is chosen for
the hardware, and nothing else runs between steps.

    lexitune train examples/culinary-fr/lexitune.yaml --out runs/culinary
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lexitune.config import TrainConfig
from lexitune.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from lexitune.train.data import IGNORE, Example, collate, length_grouped_batches
from lexitune.train.precision import Precision, choose_precision


@dataclass
class TrainResult:
    seconds: float
    steps: int
    tokens: int
    tokens_per_second: float
    final_loss: float
    precision: str
    precision_reason: str
    trainable_parameters: int
    resumed_from_step: int = 0


StepCallback = Callable[[dict], bool | None]  # gets the step's log row; True asks to stop


def lr_lambda(cfg: TrainConfig, total_steps: int) -> Callable[[int], float]:
    warmup = int(cfg.warmup_ratio * total_steps)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if cfg.scheduler == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total_steps - warmup)
        if cfg.scheduler == "linear":
            return max(0.0, 1.0 - progress)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def answer_loss_sum(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Summed next-token cross-entropy over answer tokens, projecting to the vocabulary only there.

    The LM head is a large share of a small model's FLOPs (49k x 576 for SmolLM2); most positions
    are prompt tokens that carry no loss, so computing their logits would be wasted work.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = base.get_decoder()(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False)
    hidden = hidden.last_hidden_state[:, :-1]
    targets = batch["labels"][:, 1:]
    keep = targets != IGNORE
    logits = base.get_output_embeddings()(hidden[keep]).float()
    softcap = getattr(base.config, "final_logit_softcapping", None)
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    return F.cross_entropy(logits, targets[keep], reduction="sum")


def _steps_per_epoch(n_examples: int, cfg: TrainConfig) -> int:
    return math.ceil(math.ceil(n_examples / cfg.batch_size) / cfg.grad_accum)


def _step_groups(examples: list[Example], cfg: TrainConfig, seed: int, epoch: int) -> list[list[list[int]]]:
    """This epoch's optimiser steps, each a list of micro-batches of example indices."""
    batches = length_grouped_batches([len(e) for e in examples], cfg.batch_size, seed + epoch)
    return [batches[i : i + cfg.grad_accum] for i in range(0, len(batches), cfg.grad_accum)]


def train(
    model,
    examples: list[Example],
    cfg: TrainConfig,
    run_dir: Path,
    *,
    pad_id: int,
    seed: int = 0,
    resume: bool = False,
    callbacks: list[StepCallback] | None = None,
    console: Console | None = None,
) -> TrainResult:
    console = console or Console(stderr=True)
    device = next(model.parameters()).device
    torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
    precision: Precision = choose_precision(cfg.precision, device)
    params = [p for p in model.parameters() if p.requires_grad]
    assert params, "nothing to train: no parameter requires grad"
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, foreach=True)
    per_epoch = _steps_per_epoch(len(examples), cfg)
    total_steps = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.epochs))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg, total_steps))

    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_dir = run_dir / "checkpoints"
    log_path = run_dir / "train_log.jsonl"
    state = {"tokens": 0, "seconds": 0.0, "loss": float("nan")}
    step = 0
    if resume and (last := latest_checkpoint(ckpt_dir)):
        state = load_checkpoint(last, model, optimizer, scheduler)
        step = state["step"]
        console.print(f"resumed from {last} (step {step}/{total_steps})")
    elif log_path.exists():
        log_path.unlink()  # a fresh run must not inherit a previous curve
    resumed_from = step

    model.train()
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision.dtype == torch.bfloat16)
    progress = Progress(
        TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(), console=console, disable=not console.is_terminal,
    )
    task = progress.add_task("train", total=total_steps, completed=step, info="")
    started = time.perf_counter() - state["seconds"]
    stop = False
    with progress, log_path.open("a") as log:
        while step < total_steps and not stop:
            epoch, position = divmod(step, per_epoch)
            for groups in _step_groups(examples, cfg, seed, epoch)[position:]:
                micro = [collate([examples[i] for i in ids], pad_id) for ids in groups]
                n_answer = sum(int((b["labels"][:, 1:] != IGNORE).sum()) for b in micro)
                loss_value = 0.0
                for batch in micro:
                    batch = {k: v.to(device) for k, v in batch.items()}
                    with autocast:
                        loss = answer_loss_sum(model, batch) / max(1, n_answer)
                    loss.backward()
                    loss_value += loss.item()
                    state["tokens"] += int(batch["attention_mask"].sum())
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                elapsed = time.perf_counter() - started
                state.update(seconds=elapsed, loss=loss_value)
                row = {"step": step, "epoch": step / per_epoch, "loss": loss_value,
                       "lr": scheduler.get_last_lr()[0], "tokens": state["tokens"],
                       "tokens_per_second": state["tokens"] / elapsed, "seconds": elapsed}
                log.write(json.dumps(row) + "\n")
                log.flush()
                progress.update(task, completed=step, info=f"loss {loss_value:.3f}  {row['tokens_per_second']:.0f} tok/s")
                if not console.is_terminal and (step % max(1, total_steps // 10) == 0 or step == total_steps):
                    console.print(f"step {step}/{total_steps}  loss {loss_value:.3f}  {row['tokens_per_second']:.0f} tok/s")
                for callback in callbacks or []:
                    stop = bool(callback(row)) or stop
                if cfg.save_every and step % cfg.save_every == 0 and step < total_steps:
                    save_checkpoint(ckpt_dir, step, model, optimizer, scheduler, state)
                if step >= total_steps or stop:
                    break
    save_checkpoint(ckpt_dir, step, model, optimizer, scheduler, state)
    model.eval()
    seconds = time.perf_counter() - started
    return TrainResult(
        seconds=round(seconds, 2), steps=step, tokens=state["tokens"],
        tokens_per_second=round(state["tokens"] / seconds, 1), final_loss=round(state["loss"], 4),
        precision=precision.name, precision_reason=precision.reason,
        trainable_parameters=sum(p.numel() for p in params), resumed_from_step=resumed_from,
    )


def result_dict(result: TrainResult) -> dict:
    return asdict(result)
