"""The base model's view of the distilled replay rows, computed once before training.

A distilled row's target is the base model's distribution at each answer position: the same for
every epoch, since the base weights never change. Recomputing it each step cost a full forward
pass of the base model per replay row per epoch. Only the decoder's last hidden state at those
positions is kept (576 numbers a position for SmolLM2, not its 49k logits); the frozen output
projection turns it back into the teacher's logits in the step, exactly as before.

    python -m pytest -q tests/train/test_distill.py
"""

from __future__ import annotations

import torch

from lexitune.train.data import IGNORE, Example, collate, length_grouped_batches
from lexitune.train.shared_prefix import base_hidden

BATCH = 16


@torch.no_grad()
def attach_teacher(model, examples: list[Example], *, pad_id: int, device, autocast, share_prefix: bool = True) -> int:
    """Give every distilled example its teacher's hidden states; returns how many examples got them."""
    todo = [i for i, e in enumerate(examples) if e.distill and e.teacher is None]
    lengths = [len(examples[i]) for i in todo]
    for batch_ids in length_grouped_batches(lengths, BATCH, seed=0):
        rows = [examples[todo[k]] for k in batch_ids]
        batch = {k: v.to(device) for k, v in collate(rows, pad_id).items() if k != "distill"}
        with autocast:
            hidden, offset = base_hidden(model, batch, share_prefix)
        keep = batch["labels"][:, offset + 1 :] != IGNORE
        for row, example in enumerate(rows):
            example.teacher = hidden[row, :-1][keep[row]].detach().cpu()
    return len(todo)
