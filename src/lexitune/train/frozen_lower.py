"""Compute the layers below the adapter once per training row, not once per epoch.

When LoRA sits only on the top layers (`experimental.lora_layers` < 1), the layers below the lowest
adapted one are frozen and carry no adapter: their output for a row is the same at every step, and
with or without the adapter (so the distillation teacher shares it too). So it is computed once,
before the first step, and every step runs only the adapted layers, from that cached input. The
backward pass already stopped there; this removes the forward pass below it as well.

The cache holds, per row, the hidden state entering the first adapted layer: tokens x hidden size
floats (SmolLM2-135M: 2.3 KB a token). Above `MAX_BYTES` it is not kept and every step runs the
whole model, as without it.

    python -m pytest -q tests/train/test_frozen_lower.py
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

MAX_BYTES = 2 * 1024**3


def first_adapted_layer(model) -> int:
    """The lowest decoder layer holding a trainable weight; 0 when the embeddings or layer 0 train."""
    layers = []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if ".layers." not in name:
            return 0  # something outside the decoder layers trains (embeddings, head): nothing is frozen below
        layers.append(int(name.split(".layers.")[1].split(".")[0]))
    return min(layers, default=0)


class _Stop(Exception):
    pass


@torch.no_grad()
def lower_hidden(model, examples, layer: int, batch_size: int = 16) -> list[torch.Tensor]:
    """Each example's hidden state entering decoder layer `layer` ([tokens, hidden]), computed once."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = base.get_decoder()
    captured: list[torch.Tensor] = []

    def grab(_module, args, kwargs):
        captured.append((args[0] if args else kwargs["hidden_states"]).detach())
        raise _Stop  # nothing above the cached layer is needed

    was_training = decoder.training
    decoder.eval()  # no dropout in what every later step will reuse
    handle = decoder.layers[layer].register_forward_pre_hook(grab, with_kwargs=True)
    device = next(decoder.parameters()).device
    out: list[torch.Tensor] = []
    try:
        for i in range(0, len(examples), batch_size):
            chunk = examples[i : i + batch_size]
            width = max(len(e) for e in chunk)
            ids = torch.zeros((len(chunk), width), dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for row, e in enumerate(chunk):
                ids[row, : len(e)] = torch.tensor(e.input_ids)
                mask[row, : len(e)] = 1
            captured.clear()
            try:
                decoder(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False)
            except _Stop:
                pass
            # Right padding under a causal mask: a row's real positions never see its pads.
            out += [captured[0][row, : len(e)].clone() for row, e in enumerate(chunk)]
    finally:
        handle.remove()
        decoder.train(was_training)
    return out


def cache_fits(examples, hidden_size: int, bytes_per_float: int = 4) -> bool:
    return sum(len(e) for e in examples) * hidden_size * bytes_per_float <= MAX_BYTES


def pad_lower(rows: list[torch.Tensor], width: int) -> torch.Tensor:
    """The cached rows of a micro-batch, right-padded with zeros to the batch's width."""
    out = rows[0].new_zeros((len(rows), width, rows[0].shape[-1]))
    for i, r in enumerate(rows):
        out[i, : r.shape[0]] = r
    return out


@contextmanager
def upper_layers_only(decoder, layer: int) -> Iterator[None]:
    """Run `decoder` from layer `layer` up: the caller passes that layer's input as inputs_embeds."""
    if layer == 0:
        yield
        return
    every = decoder.layers
    decoder.layers = torch.nn.ModuleList(list(every)[layer:])  # each keeps its own layer_idx (KV cache)
    try:
        yield
    finally:
        decoder.layers = every


def alias_lower_cache(cache, layer: int) -> None:
    """Let the KV cache's entries below `layer` (never written: those layers do not run) report the
    lengths of an upper entry of the same kind, which is what the attention mask is sized from."""
    sliding = list(getattr(cache, "is_sliding", [False] * len(cache.layers)))
    for i in range(min(layer, len(cache.layers))):
        same = [j for j in range(layer, len(cache.layers)) if sliding[j] == sliding[i]]
        cache.layers[i] = cache.layers[same[0] if same else layer]
