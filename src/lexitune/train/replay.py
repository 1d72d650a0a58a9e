"""Replay: general prompts answered by the base model itself, mixed into training (self-distillation).

    lexitune run examples/culinary-fr/lexitune.yaml --set train.replay_ratio=0.5

The adapter is then also trained to give the base model's own answers to everyday questions, so it
learns the glossary without rewriting everything else. No outside data is needed: the prompts ship
with lexitune (`assets/replay_prompts.jsonl`, none of them a probe question) and the answers are
the base model's, greedy, with the same chat template and system prompt as everything else. Past
the 70 shipped prompts (`experimental.replay_source: both`, the default) or instead of them (`self`), the
base model writes its own prompts (`self_prompts`), so a large ratio never repeats a prompt. A
prompt or answer that mentions a glossary term or alias is dropped, so replay never teaches
anything about the glossary. Cached in the run folder as `data/replay.jsonl`. With
`train.replay_known`, questions about well-known acronyms asked the glossary's way join them
(`known.py`, cached as `data/replay_known.jsonl`); with `experimental.replay_arithmetic`, small
calculations (`arithmetic.py`, `data/replay_arithmetic.jsonl`). Both keep only right answers.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from lexitune.config import Config
from lexitune.evaluate.probes.general import GENERAL_PATH
from lexitune.generate.dataset import Conversation, Message, read_conversations, write_conversations
from lexitune.glossary.term import Term, mentions
from lexitune.inference import Answerer, with_system
from lexitune.inference.cache import base_answers, cached, model_fingerprint
from lexitune.rundir import RunDir, digest, read_cache, write_cache
from lexitune.train import arithmetic, known
from lexitune.train.self_prompts import SELF_PROMPTS_VERSION, self_prompts

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


def replay_conversations(
    model, tokenizer, config: Config, run: RunDir, terms: list[Term], n_glossary: int
) -> list[Conversation]:
    """General replay, well-known acronyms, calculations: each a ratio of n_glossary; `model`: the untuned base."""
    # (cache, ratio, prompts_for(n, system), how build_replay keeps answers)
    classes = [
        (
            "replay",
            config.train.replay_ratio,
            lambda n, system: _general_prompts(model, tokenizer, config, terms, n, system),
            {},
        ),
        # The base model gets many of these wrong and only right answers are kept: ask thrice as many.
        (
            "replay_known",
            config.train.replay_known,
            lambda n, _: known.known_prompts(terms, config, 3 * n),
            {"style": known.STYLE, "keep": known.keep_answer},
        ),
        (
            "replay_arithmetic",
            config.experimental.replay_arithmetic,
            lambda n, _: arithmetic.arithmetic_prompts(config, 3 * n),
            {"style": arithmetic.STYLE, "keep": arithmetic.keep_answer},
        ),
    ]
    return [
        conversation
        for cache, ratio, prompts_for, build in classes
        for conversation in _replayed(
            model, tokenizer, config, run.replay_cache(cache), round(ratio * n_glossary), terms, prompts_for, **build
        )
    ]


def _replayed(model, tokenizer, config: Config, cache: Path, n: int, terms: list[Term], prompts_for, **build):
    """n conversations of prompts_for(n, system) answered by the base model, cached at `cache`."""
    if n <= 0:
        return []
    inputs = {
        "n": n,
        "seed": config.seed,
        "model": model_fingerprint(config.model.name),
        "system": config.generate.system_prompt,
        "max_new_tokens": config.train.replay_max_new_tokens,
        "source": config.experimental.replay_source,
        "terms": [t.model_dump() for t in terms],
        "language": config.generate.language,
        "styles": [config.generate.train_styles, config.generate.test_styles],
    }
    key = cache.with_suffix(".inputs.json")
    if read_cache(key, inputs) is not None and (cached := _cached(cache)) is not None:
        return cached
    system = with_system(config.generate.system_prompt, [])  # the scope prompt's message, if any
    prompts = prompts_for(n, system)
    # The model has no adapter yet: the base model answers, as it would in evaluation, and its
    # answers to the same prompts are shared with other runs of the same model.
    answerer = Answerer.as_is(model, tokenizer, config, max_new_tokens=config.train.replay_max_new_tokens)
    answers = base_answers(
        answerer, config.model.name, [answerer.messages(p) for p in prompts], cache.with_suffix(".answers.json")
    )
    out = build_replay(prompts, answers, terms, n, system, **build)
    write_conversations(cache, out)
    write_cache(key, inputs, True)
    return out


def _general_prompts(model, tokenizer, config: Config, terms: list[Term], n: int, system: list[dict]) -> list[str]:
    """The shipped prompts, shuffled, then (replay_source both or self) prompts the base model writes."""
    prompts = replay_prompts(terms) if config.experimental.replay_source != "self" else []
    random.Random(f"{config.seed}\x00replay").shuffle(prompts)
    prompts = prompts[:n]
    if config.experimental.replay_source != "shipped" and len(prompts) < n:
        # A few more than needed: build_replay drops the ones the base model answers badly.
        wanted = n - len(prompts) + max(4, n // 10)
        # Sampled with a fixed seed, so another run of the same model, glossary and seed (a sweep's
        # trials, a bench's rows) would write the same prompts again: ~40 s on the culinary example.
        inputs = {
            "kind": "self prompts",
            "version": SELF_PROMPTS_VERSION,
            "model": model_fingerprint(config.model.name),
            "template": tokenizer.chat_template,
            "system": system,
            "n": wanted,
            "seed": config.seed,
            "batch_size": config.eval.batch_size,
            "terms": [t.model_dump() for t in terms],
            "probe": digest(GENERAL_PATH.read_text(encoding="utf-8")),
        }
        prompts += cached(
            inputs,
            lambda: self_prompts(
                model, tokenizer, wanted, terms, system, seed=config.seed, batch_size=config.eval.batch_size
            ),
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
