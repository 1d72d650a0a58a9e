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
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lexitune import allocator
from lexitune.config import TrainConfig
from lexitune.rundir import RunDir, cut_log
from lexitune.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from lexitune.train.compile import compiled_blocks
from lexitune.train.data import IGNORE, Example, collate, length_grouped_batches
from lexitune.train.distributed import current_world
from lexitune.train.precision import Precision, StepPrecision, choose_precision, device_name
from lexitune.train.shared_prefix import answer_loss_sum

__all__ = ["TrainResult", "StepCallback", "answer_loss_sum", "lr_lambda", "result_dict", "train"]


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
    allocator: str = "system"  # mimalloc when the command line preloaded it (lexitune/allocator.py)
    device: str = ""  # what trained it (train.precision.device_name): timings mean nothing without it


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


def _answer_tokens(example: Example) -> int:
    """Answer tokens that are a prediction target (position 0 predicts nothing)."""
    return sum(1 for label in example.labels[1:] if label != IGNORE)


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
    world = current_world()
    if world.device and world.device != "cpu":
        model.to(world.device)
    device = next(model.parameters()).device
    # Processes sharing a CPU share its cores: oversubscribed threads spin against each other.
    torch.set_num_threads(cfg.threads or max(1, (os.cpu_count() or 1) // world.size))
    precision: Precision = choose_precision(cfg.precision, device)
    params = [p for p in model.parameters() if p.requires_grad]
    assert params, "nothing to train: no parameter requires grad"
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay, foreach=True)
    per_epoch = _steps_per_epoch(len(examples), cfg)
    total_steps = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.epochs))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(cfg, total_steps))

    run = RunDir(run_dir)
    run.root.mkdir(parents=True, exist_ok=True)
    ckpt_dir, log_path = run.checkpoints, run.train_log
    state = {"tokens": 0, "seconds": 0.0, "loss": float("nan")}
    step = 0
    if resume and (last := latest_checkpoint(ckpt_dir)):
        state = load_checkpoint(last, model, optimizer, scheduler)
        step = state["step"]
        console.print(f"resumed from {last} (step {step}/{total_steps})")
        if world.is_main:
            cut_log(log_path, step)
            cut_log(run.curve, step)
    elif log_path.exists() and world.is_main:
        log_path.unlink()  # a fresh run must not inherit a previous curve
    resumed_from = step

    model.train()
    in_precision = StepPrecision(model, precision, device, cfg.method)
    progress = Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    task = progress.add_task("train", total=total_steps, completed=step, info="")
    started = time.perf_counter() - state["seconds"]
    stop = False
    with progress, log_path.open("a") as log, compiled_blocks(model, cfg.compile):
        while step < total_steps and not stop:
            epoch, position = divmod(step, per_epoch)
            for groups in _step_groups(examples, cfg, seed, epoch)[position:]:
                n_answer = sum(_answer_tokens(examples[i]) for ids in groups for i in ids)
                loss_sum = torch.zeros((), dtype=torch.float64)
                for ids in groups:
                    state["tokens"] += sum(len(examples[i]) for i in ids)
                    mine = world.shard(ids)
                    if not mine:
                        continue
                    batch = {k: v.to(device) for k, v in collate([examples[i] for i in mine], pad_id).items()}
                    with in_precision.around(batch["input_ids"].shape[1]):
                        with in_precision.autocast:
                            loss = answer_loss_sum(model, batch, share_prefix=cfg.share_prefix) / max(1, n_answer)
                        loss.backward()
                    loss_sum += loss.detach().double().cpu()
                world.sum_grads(params)
                loss_value = float(world.sum_(loss_sum))
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                elapsed = time.perf_counter() - started
                state.update(seconds=elapsed, loss=loss_value)
                row = {
                    "step": step,
                    "total_steps": total_steps,  # what a progress view (lexitune ui) needs for its ETA
                    "epoch": step / per_epoch,
                    "loss": loss_value,
                    "lr": scheduler.get_last_lr()[0],
                    "tokens": state["tokens"],
                    "tokens_per_second": state["tokens"] / elapsed,
                    "seconds": elapsed,
                }
                if world.is_main:
                    log.write(json.dumps(row) + "\n")
                    log.flush()
                progress.update(
                    task, completed=step, info=f"loss {loss_value:.3f}  {row['tokens_per_second']:.0f} tok/s"
                )
                if not console.is_terminal and (step % max(1, total_steps // 10) == 0 or step == total_steps):
                    console.print(
                        f"step {step}/{total_steps}  loss {loss_value:.3f}  {row['tokens_per_second']:.0f} tok/s"
                    )
                for callback in callbacks or []:
                    stop = bool(callback(row)) or stop
                if world.size > 1:  # every process must stop at the same step, or the collectives hang
                    stop = bool(world.sum_(torch.tensor(float(stop))) > 0)
                if cfg.save_every and step % cfg.save_every == 0 and step < total_steps and world.is_main:
                    save_checkpoint(ckpt_dir, step, model, optimizer, scheduler, state)
                if step >= total_steps or stop:
                    break
    if world.is_main:
        save_checkpoint(ckpt_dir, step, model, optimizer, scheduler, state)
    model.eval()
    seconds = time.perf_counter() - started
    return TrainResult(
        seconds=round(seconds, 2),
        steps=step,
        tokens=state["tokens"],
        tokens_per_second=round(state["tokens"] / seconds, 1),
        final_loss=round(state["loss"], 4),
        precision=precision.name,
        precision_reason=precision.reason,
        trainable_parameters=sum(p.numel() for p in params),
        resumed_from_step=resumed_from,
        allocator=allocator.current(),
        device=device_name(device),
    )


def result_dict(result: TrainResult) -> dict:
    return asdict(result)
