"""Replay: general prompts answered by the base model itself, mixed into training (self-distillation).

    lexitune run examples/culinary-fr/lexitune.yaml --set train.replay_ratio=0.5

The adapter is then also trained to give the base model's own answers to everyday questions, so it
learns the glossary without rewriting everything else. No outside data is needed: the prompts ship
with lexitune (`assets/replay_prompts.jsonl`, none of them a probe question) and the answers are
the base model's, greedy, with the same chat template and system prompt as everything else. Past
the 70 shipped prompts (`train.replay_source: both`, the default) or instead of them (`self`), the
base model writes its own prompts (`self_prompts`), so a large ratio never repeats a prompt. A
prompt or answer that mentions a glossary term or alias is dropped, so replay never teaches
anything about the glossary. Cached in the run folder as `data/replay.jsonl`. With
`train.replay_known`, questions about well-known acronyms asked the glossary's way join them
(`known.py`, cached as `data/replay_known.jsonl`); with `train.replay_arithmetic`, small
calculations (`arithmetic.py`, `data/replay_arithmetic.jsonl`). Both keep only right answers.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from lexitune.config import Config
from lexitune.evaluate.generation import answer_questions
from lexitune.generate.dataset import Conversation, Message, read_conversations, write_conversations
from lexitune.glossary.term import Term, mentions
from lexitune.rundir import RunDir
from lexitune.train import arithmetic, known
from lexitune.train.self_prompts import self_prompts

PROMPTS_PATH = Path(__file__).resolve().parent / "assets" / "replay_prompts.jsonl"
_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")


def replay_prompts(terms: list[Term], path: Path = PROMPTS_PATH) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["prompt"] for r in rows if not mentions(r["prompt"], terms)]


def _clean(answer: str) -> str:
    """Cut an answer stopped by the length limit back to its last full sentence."""
    answer = answer.strip()
    if answer.endswith((".", "!", "?", "…")):
        return answer
    ends = list(_SENTENCE_END.finditer(answer))
    return answer[: ends[-1].end()] if ends else answer


def _cached(path: Path) -> list[Conversation] | None:
    if not path.exists():
        return None
    # An empty cache: the base model gave no usable answer.
    return read_conversations(path) if path.read_text(encoding="utf-8").strip() else []


def _system(config: Config) -> list[dict]:
    return [{"role": "system", "content": config.generate.system_prompt}] if config.generate.system_prompt else []


def replay_conversations(
    model, tokenizer, config: Config, run: RunDir, terms: list[Term], n_glossary: int
) -> list[Conversation]:
    """General replay, well-known acronyms, calculations: each a ratio of n_glossary; `model`: the untuned base."""
    # (cache, ratio, prompts_for(n, system), how build_replay keeps answers)
    classes = [
        (
            "replay.jsonl",
            config.train.replay_ratio,
            lambda n, system: _general_prompts(model, tokenizer, config, terms, n, system),
            {},
        ),
        # The base model gets many of these wrong and only right answers are kept: ask thrice as many.
        (
            "replay_known.jsonl",
            config.train.replay_known,
            lambda n, _: known.known_prompts(terms, config, 3 * n),
            {"style": known.STYLE, "keep": known.keep_answer},
        ),
        (
            "replay_arithmetic.jsonl",
            config.train.replay_arithmetic,
            lambda n, _: arithmetic.arithmetic_prompts(config, 3 * n),
            {"style": arithmetic.STYLE, "keep": arithmetic.keep_answer},
        ),
    ]
    return [
        conversation
        for cache, ratio, prompts_for, build in classes
        for conversation in _replayed(
            model, tokenizer, config, run.data / cache, round(ratio * n_glossary), terms, prompts_for, **build
        )
    ]


def _replayed(model, tokenizer, config: Config, cache: Path, n: int, terms: list[Term], prompts_for, **build):
    """n conversations of prompts_for(n, system) answered by the base model, cached at `cache`."""
    if n <= 0:
        return []
    if (cached := _cached(cache)) is not None:
        return cached
    system = _system(config)
    prompts = prompts_for(n, system)
    answers = answer_questions(
        model,
        tokenizer,
        [[*system, {"role": "user", "content": p}] for p in prompts],
        batch_size=config.eval.batch_size,
        max_new_tokens=config.train.replay_max_new_tokens,
    )
    out = build_replay(prompts, answers, terms, n, system, **build)
    write_conversations(cache, out)
    return out


def _general_prompts(model, tokenizer, config: Config, terms: list[Term], n: int, system: list[dict]) -> list[str]:
    """The shipped prompts, shuffled, then (replay_source both or self) prompts the base model writes."""
    prompts = replay_prompts(terms) if config.train.replay_source != "self" else []
    random.Random(f"{config.seed}\x00replay").shuffle(prompts)
    prompts = prompts[:n]
    if config.train.replay_source != "shipped" and len(prompts) < n:
        # A few more than needed: build_replay drops the ones the base model answers badly.
        wanted = n - len(prompts) + max(4, n // 10)
        prompts += self_prompts(
            model, tokenizer, wanted, terms, system, seed=config.seed, batch_size=config.eval.batch_size
        )
    return prompts


def build_replay(
    prompts: list[str],
    answers: list[str],
    terms: list[Term],
    n: int,
    system: list[dict],
    *,
    style: str = "replay",
    keep=lambda prompt, answer: True,
) -> list[Conversation]:
    """n conversations from the base model's answers kept by `keep(prompt, answer)`, none naming a glossary term."""
    pairs = [
        (p, _clean(a))
        for p, a in zip(prompts, answers, strict=True)
        if _clean(a) and keep(p, _clean(a)) and not mentions(a, terms)
    ]
    out = []
    for i in range(n if pairs else 0):  # fewer prompts than asked for: cycle through them
        prompt, answer = pairs[i % len(pairs)]
        messages = [Message(**m) for m in system]
        messages += [Message(role="user", content=prompt), Message(role="assistant", content=answer)]
        out.append(Conversation(term="", split="train", style=style, messages=messages))
    return out
