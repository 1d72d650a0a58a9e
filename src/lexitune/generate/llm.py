"""Conversations written by an LLM over any OpenAI-compatible API (`generate.backend: openai`).

    lexitune generate examples/culinary-fr/lexitune-ollama.yaml --out runs/culinary-llm

As in the course, the LLM is asked for N short fictive conversations per term, each a user's
question about the term and an answer that contains its definition. Nothing it writes is trusted:
each conversation is validated (right roles, nothing empty, the question names the term, the answer
contains every definition as `exact_recall` would find it), near-duplicate questions are dropped,
and a term left with too few valid conversations is asked again, then reported by name. Part of
each term's conversations is held out for test (course: 3 train, 1 test); the held-out ones are
never near-duplicates of the training ones, since duplicates were dropped before the split.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ValidationError, field_validator
from rich.console import Console

from lexitune.config import GenerateConfig
from lexitune.errors import LexituneError
from lexitune.evaluate.metrics import contains_definition, normalize
from lexitune.generate.dataset import Conversation, Message, system_messages
from lexitune.glossary.term import Term
from lexitune.llm.client import LLMClient, Request
from lexitune.llm.extract import extract_json

PROMPTS = {
    "en": (
        "Create {n} fictive conversations IN ENGLISH between a user and an assistant. Each conversation has "
        "exactly 1 question and 1 answer. Each question is a user asking for the meaning of {term}{aliases}; vary "
        "the questions (formal, casual, in a work context, very short...). Each answer must contain "
        "{definition}. The answers must be diverse too, and short.{extra}\n"
        'Reply with raw JSON only, no comments: {{"conversations": [{{"messages": [{{"role": "user", '
        '"content": THE QUESTION}}, {{"role": "assistant", "content": THE ANSWER}}]}}, ...]}}'
    ),
    "fr": (
        "Crée {n} conversations fictives EN FRANÇAIS entre un utilisateur et un assistant. Chaque conversation "
        "contient exactement 1 question et 1 réponse. Chaque question est un utilisateur qui demande la "
        "signification de {term}{aliases} ; varie les questions (formelle, familière, dans un contexte de travail, "
        "très courte...). Chaque réponse doit contenir {definition}. Les "
        "réponses doivent aussi être variées, et courtes.{extra}\n"
        'Réponds uniquement avec le JSON brut, sans commentaire : {{"conversations": [{{"messages": [{{"role": '
        '"user", "content": LA QUESTION}}, {{"role": "assistant", "content": LA RÉPONSE}}]}}, ...]}}'
    ),
}
DEFINITION = {
    "en": "the definition, written exactly: '{definition}'",
    "fr": "la définition, écrite exactement : « {definition} »",
}
ALIASES = {"en": " (also written {aliases})", "fr": " (aussi écrit {aliases})"}
SEPARATOR = {"en": "' and '", "fr": " » et « "}
SENSES = {"en": "all its meanings: '{definitions}'", "fr": "toutes ses significations : « {definitions} »"}

_MESSAGE = {
    "type": "object",
    "properties": {"role": {"type": "string", "enum": ["user", "assistant"]}, "content": {"type": "string"}},
    "required": ["role", "content"],
    "additionalProperties": False,
}
SCHEMA = {
    "type": "object",
    "properties": {
        "conversations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"messages": {"type": "array", "items": _MESSAGE}},
                "required": ["messages"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["conversations"],
    "additionalProperties": False,
}


class Drafted(BaseModel):
    """The shape of one conversation from the LLM: a user question then an assistant answer."""

    messages: list[Message]

    @field_validator("messages")
    @classmethod
    def _one_exchange(cls, messages: list[Message]) -> list[Message]:
        if [m.role for m in messages] != ["user", "assistant"]:
            raise ValueError("wrong roles")
        if any(not m.content.strip() for m in messages):
            raise ValueError("empty message")
        return messages


@dataclass
class TermResult:
    """What a term got from the LLM so far, and why the rest was dropped."""

    kept: list[Drafted] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


def prompt(term: Term, n: int, cfg: GenerateConfig) -> str:
    language = cfg.language
    if term.senses:
        definition = SENSES[language].format(definitions=SEPARATOR[language].join(term.definitions))
    else:
        definition = DEFINITION[language].format(definition=term.definition)
    aliases = ALIASES[language].format(aliases=", ".join(term.aliases)) if term.aliases else ""
    text = PROMPTS[language].format(
        n=n,
        term=term.term,
        aliases=aliases,
        definition=definition,
        extra=f" {cfg.extra_instructions.strip()}" if cfg.extra_instructions else "",
    )
    return text


def _items(value: object) -> list | None:
    """The list of conversations in whatever shape the LLM chose."""
    if isinstance(value, dict):
        if isinstance(value.get("conversations"), list):
            return value["conversations"]
        lists = [v for v in value.values() if isinstance(v, list)]
        return lists[0] if len(lists) == 1 else None
    return value if isinstance(value, list) else None


def _as_messages(item: object) -> object:
    """Accept the course's shape (a bare list of messages) and {question, answer} pairs too."""
    if isinstance(item, list):
        return {"messages": item}
    if isinstance(item, dict) and "messages" not in item and {"question", "answer"} <= set(item):
        return {
            "messages": [
                {"role": "user", "content": item["question"]},
                {"role": "assistant", "content": item["answer"]},
            ]
        }
    return item


def check(item: object, term: Term) -> tuple[Drafted | None, str | None]:
    """(the conversation, None) if it is valid for `term`, else (None, the reason it was dropped)."""
    try:
        drafted = Drafted.model_validate(_as_messages(item))
    except ValidationError as e:
        reason = e.errors()[0]["msg"].removeprefix("Value error, ")
        return None, reason if reason in ("wrong roles", "empty message") else "schema violation"
    question, answer = drafted.messages[0].content, drafted.messages[1].content
    if not all(contains_definition(answer, d) for d in term.definitions):
        return None, "definition missing"
    if not any(contains_definition(question, name) for name in [term.term, *term.aliases]):
        return None, "term missing from question"
    return drafted, None


def _is_duplicate(question: str, seen: list[str], threshold: float) -> bool:
    from rapidfuzz import fuzz

    q = normalize(question)
    return any(fuzz.ratio(q, s) >= threshold for s in seen)


def absorb(result: TermResult, text: str | None, term: Term, cfg: GenerateConfig) -> None:
    """Validate one reply's conversations into `result` (up to the number wanted)."""
    items = _items(extract_json(text))
    if items is None:
        result.dropped["no JSON list of conversations"] += 1
        return
    seen = [normalize(c.messages[0].content) for c in result.kept]
    for item in items:
        drafted, reason = check(item, term)
        if drafted is not None and _is_duplicate(drafted.messages[0].content, seen, cfg.duplicate_threshold):
            drafted, reason = None, "near-duplicate question"
        if drafted is None:
            result.dropped[reason] += 1
        elif len(result.kept) >= cfg.conversations_per_term:
            result.dropped["more than asked"] += 1
        else:
            result.kept.append(drafted)
            seen.append(normalize(drafted.messages[0].content))


def split(term: Term, kept: list[Drafted], cfg: GenerateConfig, seed: int, only: str | None) -> list[Conversation]:
    """A seeded share of a term's conversations (at least one, if there are two) goes to test."""
    order = list(range(len(kept)))
    random.Random(f"{seed}\x00{term.term}").shuffle(order)
    n_test = 0 if cfg.test_share == 0 or len(kept) < 2 else max(1, round(len(kept) * cfg.test_share))
    test_ids = set(order[:n_test])
    system = system_messages(cfg.system_prompt)
    out = []
    for i, drafted in enumerate(kept):
        side = only or ("test" if i in test_ids else "train")
        out.append(
            Conversation(term=term.term, split=side, style=f"llm.{i:02d}", messages=[*system, *drafted.messages])
        )
    return out


def _public_url(url: str) -> str:
    """The base URL without any user:password part, fit for a report."""
    parts = urlsplit(url)
    return (
        urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")))
        if parts.hostname
        else url
    )


def llm_conversations(
    terms: list[Term],
    cfg: GenerateConfig,
    seed: int,
    *,
    report: dict | None = None,
    only: str | None = None,
    console: Console | None = None,
) -> tuple[list[Conversation], list[Conversation]]:
    """(train, test) written by the LLM; `only` puts every conversation on one side (mixed backends)."""
    console = console or Console(stderr=True)
    if cfg.language not in PROMPTS:
        raise LexituneError(f"generate.language = {cfg.language!r}: the LLM prompt exists for {', '.join(PROMPTS)}")
    client = LLMClient(cfg, "generate", console)
    results = {t.term: TermResult() for t in terms}
    for attempt in range(cfg.term_attempts):
        todo = [t for t in terms if len(results[t.term].kept) < cfg.conversations_per_term]
        if not todo:
            break
        requests = [
            Request(
                [{"role": "user", "content": prompt(t, cfg.conversations_per_term - len(results[t.term].kept), cfg)}],
                schema=SCHEMA,
                schema_name="conversations",
                attempt=attempt,
                tag=t.term,
            )
            for t in todo
        ]
        label = "writing conversations" + (f" (attempt {attempt + 1}, {len(todo)} terms)" if attempt else "")
        for term, reply in zip(todo, client.run(requests, label), strict=True):
            result = results[term.term]
            result.attempts += 1
            if reply.error:
                result.errors.append(reply.error)
                result.dropped[f"request failed: {reply.error}"] += 1
            else:
                absorb(result, reply.text, term, cfg)
    train, test, failures = [], [], []
    for term in terms:
        result = results[term.term]
        if len(result.kept) < cfg.min_conversations:
            failures.append(
                {
                    "term": term.term,
                    "valid": len(result.kept),
                    "attempts": result.attempts,
                    "dropped": dict(result.dropped),
                }
            )
            continue
        for c in split(term, result.kept, cfg, seed, only):
            (test if c.split == "test" else train).append(c)
    summary = _summary(terms, results, failures, train, test, client, cfg)
    if report is not None:
        report.update(summary)
    _print(summary, console)
    if len(failures) == len(terms) and terms:
        raise LexituneError(
            f"generate: no term got {cfg.min_conversations} valid conversations from {cfg.model} at {_public_url(cfg.base_url)} "
            f"(dropped: {_reasons(summary['dropped'])})"
        )
    return train, test


def _reasons(counter: dict) -> str:
    return ", ".join(f"{n} {reason}" for reason, n in sorted(counter.items(), key=lambda kv: -kv[1])) or "none"


def _summary(terms, results, failures, train, test, client: LLMClient, cfg: GenerateConfig) -> dict:
    dropped = Counter()
    for r in results.values():
        dropped.update(r.dropped)
    return {
        "backend": "openai",
        "base_url": _public_url(cfg.base_url),
        "model": cfg.model,
        "structured_output": client.mode,
        "terms": len(terms),
        "kept": len(train) + len(test),
        "train": len(train),
        "test": len(test),
        "dropped": dict(dropped),
        "failures": failures,
        "per_term": {
            name: {
                "kept": len(r.kept),
                "train": sum(c.term == name for c in train),
                "test": sum(c.term == name for c in test),
                "attempts": r.attempts,
                "dropped": dict(r.dropped),
            }
            for name, r in results.items()
        },
        "usage": asdict(client.usage),
    }


def _print(summary: dict, console: Console) -> None:
    console.print(
        f"LLM conversations: {summary['kept']} kept ({summary['train']} train, {summary['test']} test), "
        f"dropped: {_reasons(summary['dropped'])}",
        highlight=False,
    )
    for f in summary["failures"]:
        console.print(
            f"[yellow]warning:[/yellow] {f['term']}: only {f['valid']} valid conversations after "
            f"{f['attempts']} attempts ({_reasons(f['dropped'])}); left out",
            highlight=False,
        )
    usage = summary["usage"]
    console.print(
        f"LLM usage: {usage['requests']} requests ({usage['cached']} from cache, {usage['retries']} retries), "
        f"{usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens",
        highlight=False,
    )
