"""Batched greedy decoding that does no work for finished rows nor for the prompts' shared opening.

`model.generate` keeps every row of a batch until the longest answer ends: on the shipped general
questions, answers run from 6 to 96 tokens (mean 35), so two thirds of its row-steps decode
padding. Here a row leaves the batch, and its keys and values the cache, as soon as it emits an
end-of-turn token. And every prompt of a batch opens with the same chat-template header and
system prompt (24 of SmolLM2's ~39 prompt tokens), which is prefilled once, as a batch of one, and
shared by every row; the rows' own tokens follow it, left-padded, their positions counted as if
unpadded, so each row sees exactly the keys and positions it would alone. The arg-max is the
same as generate's greedy search: the 64 general questions gave the same 64 answers, 1.4x faster
(docs/experiments.md, session 37).

Only a plain greedy search takes this path: a model whose generation config asks for a repetition
penalty, banned words or a minimum length (logits processors that change greedy choices) is
decoded by `model.generate` instead, so its answers stay what its authors intended.

    python -c "from lexitune.inference.greedy import greedy_batch"
"""

from __future__ import annotations

import os

import torch

MIN_PREFIX = 8  # a shorter shared opening costs more as an extra forward call than it saves
# Generation settings that change what greedy search picks, with the value that leaves it alone.
_NEUTRAL = {
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "encoder_no_repeat_ngram_size": 0,
    "min_length": 0,
    "min_new_tokens": None,
    "bad_words_ids": None,
    "suppress_tokens": None,
    "begin_suppress_tokens": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "sequence_bias": None,
    "exponential_decay_length_penalty": None,
    "renormalize_logits": False,
    "stop_strings": None,
}


def plain_greedy(model) -> bool:
    """Whether greedy search on `model` is the bare arg-max of its logits."""
    config = getattr(model, "generation_config", None)
    if config is None:
        return False
    for name, neutral in _NEUTRAL.items():
        value = getattr(config, name, neutral)
        if value not in (neutral, None):
            return False
    return True


def decoding(model) -> str:
    """Which decoder answers greedily on `model`, for cache keys."""
    return "lexitune greedy_batch 1" if plain_greedy(model) else "transformers generate"


def _cache(model):
    from transformers import DynamicCache

    return DynamicCache(config=model.config)


@torch.inference_mode()
def greedy_batch(
    model, prompts: list[list[int]], *, pad_id: int, stop: list[int], max_new_tokens: int
) -> list[list[int]]:
    """The greedy continuation of each token list, up to and including its first `stop` token."""
    device = model.device
    shared = len(os.path.commonprefix(prompts)) if len(prompts) > 1 else 0
    shared = min(shared, min(map(len, prompts)) - 1)  # every row keeps a token of its own to prefill
    cache = _cache(model)
    if shared >= MIN_PREFIX:
        head = torch.tensor([prompts[0][:shared]], device=device)
        model(input_ids=head, cache=cache, use_cache=True, logits_to_keep=1)
        cache.batch_repeat_interleave(len(prompts))
    else:
        shared = 0
    tails = [p[shared:] for p in prompts]
    width = max(map(len, tails))
    ids = torch.tensor([[pad_id] * (width - len(t)) + t for t in tails], device=device)
    tail_mask = torch.tensor([[0] * (width - len(t)) + [1] * len(t) for t in tails], device=device)
    mask = torch.cat([tail_mask.new_ones(len(prompts), shared), tail_mask], dim=-1)
    # Positions count only real tokens: a row's left padding sits between the shared opening and
    # its own tokens, and is masked out of attention.
    positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, shared:]
    logits = model(
        input_ids=ids, attention_mask=mask, position_ids=positions, cache=cache, use_cache=True, logits_to_keep=1
    ).logits
    rows = torch.arange(len(prompts), device=device)
    stops = torch.tensor(stop, device=device)
    out: list[list[int]] = [[] for _ in prompts]
    for step in range(max_new_tokens):
        token = logits[:, -1].argmax(-1)
        for row, t in zip(rows.tolist(), token.tolist(), strict=True):
            out[row].append(t)
        live = ~torch.isin(token, stops)
        if step == max_new_tokens - 1 or not live.any():
            break
        if not live.all():  # finished rows leave the batch and the cache
            keep = live.nonzero().squeeze(-1)
            rows, token, mask = rows[keep], token[keep], mask[keep]
            cache.batch_select_indices(keep)
        mask = torch.cat([mask, mask.new_ones(len(rows), 1)], dim=-1)
        logits = model(
            input_ids=token[:, None],
            attention_mask=mask,
            position_ids=mask.sum(-1, keepdim=True) - 1,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        ).logits
    return out
