"""Turn conversations into token ids with a loss mask, and batch them with little padding.

The model's own chat template renders every conversation, exactly as evaluation and chat will ask
it. Only assistant tokens (the answer and its end-of-turn token) carry loss.

    python -c "from lexitune.train.data import *"
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from lexitune.errors import LexituneError

IGNORE = -100


@dataclass
class Example:
    input_ids: list[int]
    labels: list[int]  # IGNORE where no loss is taken
    distill: bool = False  # answer trained toward the base model's distribution, not its text (replay)

    def __len__(self) -> int:
        return len(self.input_ids)


def render(tokenizer, messages: list[dict], generation_prompt: bool = False) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def assistant_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered text and the character spans of each assistant turn (with its end marker).

    A turn's span runs from the end of the prompt that asks for it to the end of the text that
    includes it; this needs the template to render prefixes consistently, which chat templates do
    (they are written for incremental chat) and which we check rather than assume.
    """
    full = render(tokenizer, messages)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        start_text = render(tokenizer, messages[:i], generation_prompt=True)
        end_text = render(tokenizer, messages[: i + 1])
        if not (full.startswith(start_text) and full.startswith(end_text)):
            raise LexituneError(
                "the model's chat template does not render conversations incrementally; "
                "cannot tell the answer tokens apart"
            )
        spans.append((len(start_text), len(end_text)))
    return full, spans


def tokenize(tokenizer, messages: list[dict], max_length: int) -> Example:
    text, spans = assistant_spans(tokenizer, messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    labels = [IGNORE] * len(ids)
    for start, end in spans:
        for j, (a, _) in enumerate(offsets):
            if start <= a < end:
                labels[j] = ids[j]
    return Example(ids[:max_length], labels[:max_length])


def tokenize_all(tokenizer, conversations, max_length: int, distill_replay: bool = False) -> list[Example]:
    examples = [tokenize(tokenizer, [m.model_dump() for m in c.messages], max_length) for c in conversations]
    if distill_replay:
        for example, c in zip(examples, conversations, strict=True):
            example.distill = c.style.split("/")[0] == "replay"  # replay, replay/known, replay/arithmetic
    if not any(label != IGNORE for ex in examples for label in ex.labels):
        raise LexituneError(f"no answer tokens left after truncation to train.max_length={max_length}")
    return examples


def length_grouped_batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffled batches of similar length: sort within random 'mega-batches', then shuffle batches.

    Sorting globally would give the same batch order every epoch; mega-batches keep the order random
    while most padding disappears.
    """
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    mega = batch_size * 32
    batches = []
    for i in range(0, len(order), mega):
        chunk = sorted(order[i : i + mega], key=lambda k: lengths[k], reverse=True)
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(examples: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(e) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e)
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    batch = {"input_ids": ids, "labels": labels, "attention_mask": mask}
    if any(e.distill for e in examples):
        batch["distill"] = torch.tensor([e.distill for e in examples])
    return batch
