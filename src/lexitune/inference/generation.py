"""Generation with the model's chat template and a KV cache: batched, streamed, beams.

Questions are sorted by length so each batch pads little, and answered many at a time: on a CPU
decoding reads every weight once per token for the whole batch, so this is several times faster
than one question at a time, with the same greedy answers. A plain greedy search runs on
`greedy.py`'s decoder (finished rows leave the batch, the shared opening is prefilled once);
anything else on `model.generate`. Stages answer through `Answerer`,
which adds the run's system prompt, routing and guard on top of these functions.

    python -c "from lexitune.inference.generation import answer_questions"
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from threading import Thread

import torch

from lexitune.inference.greedy import greedy_batch, plain_greedy


def prompt_texts(tokenizer, prompts: list[list[dict]]) -> list[str]:
    return [tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True) for p in prompts]


@torch.inference_mode()
def answer_questions(
    model, tokenizer, prompts: list[list[dict]], *, batch_size: int = 16, max_new_tokens: int = 48
) -> list[str]:
    """Greedy answers to chat prompts (each a list of messages ending with the user's question)."""
    texts = prompt_texts(tokenizer, prompts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    answers: list[str] = [""] * len(texts)
    stops = stop_ids(model, tokenizer)
    fast = plain_greedy(model)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
    with generating(model, tokenizer):
        for start in range(0, len(order), batch_size):
            ids = order[start : start + batch_size]
            if fast:
                tokens = tokenizer([texts[i] for i in ids], add_special_tokens=False)["input_ids"]
                new = greedy_batch(model, tokens, pad_id=pad, stop=stops, max_new_tokens=max_new_tokens)
            else:
                enc = tokenizer([texts[i] for i in ids], return_tensors="pt", padding=True, add_special_tokens=False)
                enc = {k: v.to(model.device) for k, v in enc.items()}
                out = model.generate(
                    **enc,
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    pad_token_id=tokenizer.pad_token_id,
                    eos_token_id=stops,
                )
                new = out[:, enc["input_ids"].shape[1] :]
            for i, row in zip(ids, new, strict=True):
                answers[i] = tokenizer.decode(row, skip_special_tokens=True).strip()
    return answers


@contextmanager
def generating(model, tokenizer) -> Iterator[None]:
    """Left padding (generation continues from the right edge of every row) and eval mode, restored after."""
    side, was_training = tokenizer.padding_side, model.training
    tokenizer.padding_side = "left"
    model.eval()
    try:
        yield
    finally:
        tokenizer.padding_side = side
        model.train(was_training)


def stop_ids(model, tokenizer) -> list[int]:
    """The end-of-turn tokens: the generation config's EOS plus the tokenizer's own."""
    eos = model.generation_config.eos_token_id
    ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return sorted(ids)


@torch.inference_mode()
def beam_answers(model, tokenizer, prompt: list[dict], *, beams: int = 8, max_new_tokens: int = 48) -> list[str]:
    """The `beams` best answers to one chat prompt by beam search, best first."""
    enc = tokenizer(prompt_texts(tokenizer, [prompt]), return_tensors="pt", add_special_tokens=False)
    enc = {k: v.to(model.device) for k, v in enc.items()}
    with generating(model, tokenizer):
        out = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=beams,
            num_return_sequences=beams,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=stop_ids(model, tokenizer),
        )
    new = out[:, enc["input_ids"].shape[1] :]
    return [tokenizer.decode(row, skip_special_tokens=True).strip() for row in new]


def stream_answer(
    model, tokenizer, messages: list[dict], max_new_tokens: int, write: Callable[[str], object] | None = None
) -> str:
    """Greedy answer to `messages`, written piece by piece as it is generated; returns the whole answer."""
    from transformers import TextIteratorStreamer

    write = write or sys.stdout.write
    enc = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    kwargs = dict(
        **enc,
        max_new_tokens=max_new_tokens,
        do_sample=False,
        streamer=streamer,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=stop_ids(model, tokenizer),
    )
    thread = Thread(target=model.generate, kwargs=kwargs, daemon=True)
    thread.start()
    pieces = []
    for piece in streamer:
        pieces.append(piece)
        write(piece)
    thread.join()
    return "".join(pieces).strip()
