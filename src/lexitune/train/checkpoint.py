"""Checkpoints that survive a crash: written to a temporary folder, then renamed into place.

`checkpoints/step-000050/` holds the trainable weights, the optimiser and scheduler state and a
`state.json` (step, tokens, time so far). Only complete checkpoints are ever found by `latest`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from lexitune.rundir import replace_dir, sync_tree
from lexitune.train.adapters import load_trainable_state_dict, trainable_state_dict


def save_checkpoint(folder: Path, step: int, model, optimizer, scheduler, state: dict, keep: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"step-{step:06d}"
    tmp = folder / f".tmp-step-{step:06d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        weights = {k: v.contiguous() for k, v in trainable_state_dict(model).items()}
        save_file(weights, tmp / "trainable.safetensors")
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp / "optimizer.pt")
        (tmp / "state.json").write_text(json.dumps({**state, "step": step}, indent=1))
        sync_tree(tmp)
    except BaseException:  # a full disk, a kill: the previous checkpoints stay as they were
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    replace_dir(tmp, final)  # the step's old copy (a resumed run saving it again) goes only after
    for old in sorted(folder.glob("step-*"))[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(folder: Path) -> Path | None:
    done = sorted(p for p in folder.glob("step-*") if (p / "state.json").exists())
    return done[-1] if done else None


def load_checkpoint(path: Path, model, optimizer, scheduler) -> dict:
    load_trainable_state_dict(model, load_file(path / "trainable.safetensors"))
    opt = torch.load(path / "optimizer.pt", weights_only=False)
    optimizer.load_state_dict(opt["optimizer"])
    scheduler.load_state_dict(opt["scheduler"])
    return json.loads((path / "state.json").read_text())
