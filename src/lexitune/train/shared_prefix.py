"""Compute the prefix that every conversation of a batch shares once, not once per conversation.

Chat templates open every conversation with the same tokens (SmolLM2's default system prompt and
the role headers: about 40% of a short Q/A pair). Those tokens carry no loss, but the answers
attend to them, so their keys and values are needed. Under LoRA they depend on the adapter, so they
are recomputed every step *with* gradients, but once per batch: the prefix runs as a batch of one,
its KV cache is expanded (a view, no copy) to the batch, and the suffixes run on top of it. The
gradient through the expanded cache sums over the batch, which is exactly what the per-sequence
computation gives. The suffixes are right-padded, so the attention mask is [ones(prefix), suffix_mask]
and the positions continue at the prefix length, the same numbers the full sequences would get.

    python -m pytest -q tests/train/test_shared_prefix.py
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lexitune.train.attention import forward_only

IGNORE = -100
MIN_PREFIX = 4  # below this the extra forward call costs more than the tokens it saves


def shared_prefix_length(batch: dict[str, torch.Tensor]) -> int:
    """Tokens every row shares that neither carry loss nor are needed as a loss position's input.

    Position j's hidden state predicts token j+1, so the prefix may only cover positions whose next
    token is not an answer token; and every row keeps at least one suffix token.
    """
    ids, labels, mask = batch["input_ids"], batch["labels"], batch["attention_mask"]
    if ids.shape[0] < 2:
        return 0
    same = (ids == ids[:1]).all(dim=0) & (mask == 1).all(dim=0)
    common = int(same.long().cumprod(0).sum())
    has_label = (labels != IGNORE).any(dim=0)
    first_label = int(has_label.nonzero()[0]) if has_label.any() else ids.shape[1]
    prefix = min(common, first_label - 1, int(mask.sum(1).min()) - 1)
    return prefix if prefix >= MIN_PREFIX else 0


def _expand_cache(cache, batch_size: int) -> None:
    """Make a batch-of-one cache serve the whole batch (expand is a view; the later cat copies)."""
    for layer in cache.layers:
        layer.keys = layer.keys.expand(batch_size, -1, -1, -1)
        layer.values = layer.values.expand(batch_size, -1, -1, -1)


def decoder_hidden(decoder, batch: dict[str, torch.Tensor], prefix: int) -> tuple[torch.Tensor, int]:
    """The decoder's last hidden states for positions `prefix`.. of every row, and that offset."""
    ids, mask = batch["input_ids"], batch["attention_mask"]
    if prefix == 0:
        out = decoder(input_ids=ids, attention_mask=mask, use_cache=False)
        return out.last_hidden_state, 0
    head = decoder(input_ids=ids[:1, :prefix], use_cache=True)
    cache = getattr(head, "cache", None) or head.past_key_values  # transformers 5.x renamed it
    _expand_cache(cache, ids.shape[0])
    width = ids.shape[1] - prefix
    positions = torch.arange(prefix, prefix + width, device=ids.device).unsqueeze(0).expand(ids.shape[0], -1)
    out = decoder(input_ids=ids[:, prefix:], attention_mask=mask, position_ids=positions, cache=cache, use_cache=True)
    return out.last_hidden_state, prefix


def answer_loss_sum(model, batch: dict[str, torch.Tensor], share_prefix: bool = True) -> torch.Tensor:
    """Summed next-token loss over answer tokens, projecting to the vocabulary only there.

    The LM head is a large share of a small model's FLOPs (49k x 576 for SmolLM2); most positions
    are prompt tokens that carry no loss, so computing their logits would be wasted work. Rows
    flagged in batch["distill"] (replay) take KL(base || model) instead of cross-entropy.
    """
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    prefix = shared_prefix_length(batch) if share_prefix else 0
    hidden, offset = decoder_hidden(base.get_decoder(), batch, prefix)
    targets = batch["labels"][:, offset + 1 :]
    keep = targets != IGNORE
    logits = _answer_logits(base, hidden[:, :-1], keep)
    distill = batch.get("distill")
    if distill is None or not distill.any():
        return F.cross_entropy(logits, targets[keep], reduction="sum")
    # Kept positions are row-major, so a distilled row's positions are its own, in order.
    flagged = distill.unsqueeze(1).expand_as(keep)[keep]
    loss = F.cross_entropy(logits[~flagged], targets[keep][~flagged], reduction="sum")
    rows = {k: v[distill] for k, v in batch.items() if k != "distill"}
    teacher = base_answer_logits(model, rows, share_prefix)
    return loss + F.kl_div(
        F.log_softmax(logits[flagged], -1), F.log_softmax(teacher, -1), log_target=True, reduction="sum"
    )


@torch.no_grad()
def base_answer_logits(model, batch: dict[str, torch.Tensor], share_prefix: bool = True) -> torch.Tensor:
    """The untuned model's logits at the answer positions (row-major): the adapter switched off."""
    if not hasattr(model, "disable_adapter"):
        raise ValueError("distillation toward the base model needs an adapter (train.method lora or dora)")
    base = model.get_base_model()
    prefix = shared_prefix_length(batch) if share_prefix else 0
    with model.disable_adapter(), forward_only(batch["input_ids"].device):
        hidden, offset = decoder_hidden(base.get_decoder(), batch, prefix)
        return _answer_logits(base, hidden[:, :-1], batch["labels"][:, offset + 1 :] != IGNORE)


def _answer_logits(base, hidden: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    logits = base.get_output_embeddings()(hidden[keep]).float()
    softcap = getattr(base.config, "final_logit_softcapping", None)
    return torch.tanh(logits / softcap) * softcap if softcap else logits
