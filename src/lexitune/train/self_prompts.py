"""Prompts the base model writes itself, for replay (the Magpie trick).

Rendering the chat template up to the opening of a user turn and letting the base model continue
makes it write the kind of request it was tuned to answer: no outside data, any number of them,
and drawn from the model's own distribution, which is what replay must keep intact. The shipped
replay prompts alone are 70; with a replay ratio of 1 or more they would be repeated, and the
adapter would learn those prompts rather than the base model's behaviour.

Left alone, a small model writes long requests ("Can you help me plan a trip..."); most rows are
started with a question word instead ("Who", "How many", "Combien"), so that short factual
questions, the kind a glossary adapter damages most, are replayed too. A prompt close to a probe
question (fuzzy ratio >= 85) is dropped, so retention is never measured on what replay rehearsed,
and so is one naming an all-capitals word that is not a well-known acronym: the base model
invents expansions for unknown acronyms, and replaying those would teach the opposite of
abstention.

    lexitune run examples/culinary-fr/lexitune.yaml --set train.replay_ratio=1 --set experimental.replay_source=both
"""

from __future__ import annotations

import re

import torch
from rapidfuzz import fuzz, process

from lexitune.errors import LexituneError
from lexitune.evaluate.metrics import normalize
from lexitune.evaluate.probes.general import load_general
from lexitune.generate.invented import COMMON_ACRONYMS
from lexitune.glossary.term import Term, capitalised_words, mentions
from lexitune.inference.generation import generating, stop_ids

_MARK = "\x00LEXITUNE-USER\x00"
MIN_CHARS, MAX_CHARS = 8, 300
# Bump when what self_prompts() writes for the same inputs changes (starters, filters, sampling):
# it keys the prompts cached across runs.
SELF_PROMPTS_VERSION = 1
PROBE_SIMILARITY = 85
# "" lets the model start the request itself; the rest begin short questions, in both languages
# the general probe asks in.
STARTERS = [
    "", "What", "Who", "Which", "How many", "Where", "When", "Why", "Name", "Write", "Give me", "Translate",
    "Quel", "Quelle", "Qui", "Combien", "Où", "Comment", "Pourquoi", "Donne", "Écris", "Traduis",
]  # fmt: skip


def user_turn_prefix(tokenizer, system: list[dict]) -> str:
    """The rendered conversation up to where a user's message would start."""
    text = tokenizer.apply_chat_template([*system, {"role": "user", "content": _MARK}], tokenize=False)
    if _MARK not in text:
        raise LexituneError(
            "the model's chat template does not render a user's message verbatim, so it cannot be asked to "
            "write replay prompts: set experimental.replay_source=shipped"
        )
    return text[: text.index(_MARK)]


def keep(prompt: str, terms: list[Term], probe_questions: list[str]) -> bool:
    """A usable self-written prompt: finished, short, about nothing in the glossary or the probe."""
    return (
        MIN_CHARS <= len(prompt) <= MAX_CHARS
        and bool(re.search(r"\w\w", prompt))
        and not mentions(prompt, terms)
        and all(word in COMMON_ACRONYMS for word in capitalised_words(prompt))
        and process.extractOne(normalize(prompt), probe_questions, scorer=fuzz.ratio, score_cutoff=PROBE_SIMILARITY)
        is None
    )


@torch.inference_mode()
def self_prompts(
    model,
    tokenizer,
    n: int,
    terms: list[Term],
    system: list[dict],
    *,
    seed: int,
    batch_size: int = 64,
    max_new_tokens: int = 64,
    max_rounds: int = 4,
) -> list[str]:
    """Up to n distinct prompts sampled from the untuned model; never a probe question or a glossary term."""
    probe = [normalize(q.question) for split in ("test", "val") for q in load_general(split)]
    prefix = user_turn_prefix(tokenizer, system)
    stops = stop_ids(model, tokenizer)
    out: dict[str, None] = {}  # ordered and distinct
    # A private generator state: sampling must be reproducible without touching the caller's RNG.
    with torch.random.fork_rng(devices=[]), generating(model, tokenizer):
        torch.manual_seed(seed)
        for round_ in range(max_rounds):
            if len(out) >= n:
                break
            rows = min(batch_size, 2 * (n - len(out)))
            starts = [STARTERS[(round_ * batch_size + i) % len(STARTERS)] for i in range(rows)]
            enc = tokenizer([prefix + s for s in starts], return_tensors="pt", padding=True, add_special_tokens=False)
            enc = {k: v.to(model.device) for k, v in enc.items()}
            generated = model.generate(
                **enc,
                do_sample=True,
                temperature=1.0,
                top_p=0.95,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=stops,
            )
            for start, row in zip(starts, generated[:, enc["input_ids"].shape[1] :], strict=True):
                finished = bool(set(row.tolist()) & set(stops))  # one cut by the length limit is not
                prompt = (start + tokenizer.decode(row, skip_special_tokens=True)).strip()
                if finished and keep(prompt, terms, probe):
                    out.setdefault(prompt)
    return list(out)[:n]
