"""Data parallelism for the training loop: one process per device under `accelerate launch`.

`train.batch_size` stays the *global* micro-batch: every process builds the same batches (same
seed) and takes its share of the rows, the loss is normalised by the global count of answer tokens,
and the gradients are summed across processes before the optimiser step. So N processes compute
exactly what one process computes for the same config (up to float summation order), only split.
We all-reduce gradients ourselves instead of wrapping the model in DDP because the loop calls the
decoder directly (to project only answer positions to the vocabulary), which DDP's forward hooks
would not see. One flat bucket keeps it to one collective per step.

    accelerate launch --num_processes 2 -m lexitune.cli train examples/culinary-fr/lexitune.yaml --out runs/ddp
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    device: str | None = None  # where this process trains; None: wherever the model already is

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, ids: list[int]) -> list[int]:
        """This process's rows of a global micro-batch (strided, so lengths stay balanced)."""
        return ids[self.rank :: self.size]

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.size > 1:
            torch.distributed.all_reduce(tensor)
        return tensor

    def sum_grads(self, params: list[torch.nn.Parameter]) -> None:
        """Sum gradients over processes in one flat buffer (a process with no rows sends zeros)."""
        if self.size == 1:
            return
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.distributed.all_reduce(flat)
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n


def current_world() -> World:
    """The process group `accelerate launch` (or torchrun) set up, or a world of one."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return World()
    from accelerate import PartialState

    state = PartialState()  # initialises the process group: gloo on CPU, NCCL on GPUs
    return World(rank=state.process_index, size=state.num_processes, device=str(state.device))
