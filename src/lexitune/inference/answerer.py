"""The one way a model answers a question: the `Answerer`.

It owns what must be identical wherever a model answers (evaluation, probes, the learning curve,
selection, replay, chat, serve):

- the system prompt: the run's `generate.system_prompt` comes first, as in training, unless the
  conversation brings its own;
- routing (`model.route: glossary`): a question goes to the adapter only when it may concern the
  glossary (it names a term or alias, quotes a definition, or holds an all-capitals word); any
  other question is answered by the same weights with the adapter switched off, i.e. exactly by
  the base model. An all-capitals word that is no glossary term (NASA, ZORB) is the adapter's to
  decline, since only the adapter learnt to say "I don't know" about invented acronyms; but when
  it does not decline, the base model answers instead, since the glossary holds nothing about the
  word and an answer can only come from what the base model knew. Merged, GGUF and Ollama exports
  have no adapter to switch off, so they answer like `model.route: always`;
- the guard (`model.guard_declines`): a question naming a glossary term never gets a decline
  when the model has something else to say: the best beam-search answer that does not decline
  replaces it (the definition still comes from the model; when every beam declines, the decline
  stays). Questions about anything else are untouched, so abstention stays the model's own;
- the answer length (`eval.max_new_tokens`) and the end-of-turn tokens (`generation.stop_ids`).

    python -c "from lexitune.inference import Answerer"
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz

from lexitune.config import Config
from lexitune.evaluate.metrics import normalize
from lexitune.evaluate.probes.decline import is_decline
from lexitune.glossary.term import Term, capitalised_words, mentions
from lexitune.inference.generation import answer_questions, beam_answers, stream_answer

# Beams the guard searches for an answer that does not decline: a declined glossary question's
# definition has been found at the first or second beam, 8 leaves room for decline variants.
GUARD_BEAMS = 8
# A reverse question quotes a definition, often with a word changed or dropped ("What's the
# acronym for Techniques elementaires culinaires?"): partial ratio on normalised text.
_QUOTE_RATIO = 90
_MIN_QUOTE = 8  # characters: shorter definitions would match ordinary words

Adapter = Literal["routed", "on", "off"]
Route = Literal["adapter", "base", "defer"]


def with_system(system_prompt: str | None, messages: list[dict]) -> list[dict]:
    """The conversation as in training: the system prompt first, unless it already has one."""
    if system_prompt and not any(m["role"] == "system" for m in messages):
        return [{"role": "system", "content": system_prompt}, *messages]
    return messages


def last_question(messages: list[dict]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


def quotes_definition(text: str, terms: list[Term]) -> bool:
    """True when `text` contains (nearly) one of the glossary's definitions: a reverse question."""
    said = normalize(text)
    for t in terms:
        for definition in t.definitions:
            wanted = normalize(definition)
            if len(wanted) >= _MIN_QUOTE and (
                wanted in said or fuzz.partial_ratio(wanted, said, score_cutoff=_QUOTE_RATIO) >= _QUOTE_RATIO
            ):
                return True
    return False


def names_glossary(text: str, terms: list[Term]) -> bool:
    """True when `text` names a term or alias, or quotes a definition."""
    return mentions(text, terms) or quotes_definition(text, terms)


def may_concern_glossary(text: str, terms: list[Term]) -> bool:
    """True when `text` names a term or alias, quotes a definition, or holds a word that reads as an acronym."""
    return names_glossary(text, terms) or bool(capitalised_words(text))


def adapter_off(model, off: bool):
    """A context with the adapter switched off when `off` (and the model has one), else nothing."""
    return model.disable_adapter() if off and hasattr(model, "disable_adapter") else contextlib.nullcontext()


@dataclass
class Answerer:
    """Greedy answers from one model, asked as the run asks.

    `adapter`: "routed" (the tuned model: routing and guard as the run's config says), "on" (the
    model as it is, adapter on: training-time measurements and the base model before any adapter
    exists), "off" (the base model: the adapter switched off for every question)."""

    model: object
    tokenizer: object
    system_prompt: str | None = None
    terms: list[Term] = field(default_factory=list)
    adapter: Adapter = "on"
    route: Literal["always", "glossary"] = "always"
    guard: bool = False
    max_new_tokens: int = 48
    batch_size: int = 64

    @classmethod
    def tuned(cls, model, tokenizer, config: Config, terms: list[Term], **length) -> Answerer:
        """The tuned model, routed and guarded as `config.model` says."""
        return cls._from(model, tokenizer, config, terms, "routed", **length)

    @classmethod
    def base(cls, model, tokenizer, config: Config, **length) -> Answerer:
        """The untuned base: the adapter switched off for every question (none yet: the model as it is)."""
        return cls._from(model, tokenizer, config, [], "off", **length)

    @classmethod
    def as_is(cls, model, tokenizer, config: Config, **length) -> Answerer:
        """The model as it is now, adapter on, no routing or guard: measurements while training."""
        return cls._from(model, tokenizer, config, [], "on", **length)

    @classmethod
    def _from(cls, model, tokenizer, config: Config, terms, adapter: Adapter, max_new_tokens: int | None = None):
        return cls(
            model,
            tokenizer,
            system_prompt=config.generate.system_prompt,
            terms=list(terms),
            adapter=adapter,
            route=config.model.route if adapter == "routed" else "always",
            guard=config.model.guard_declines if adapter == "routed" else False,
            max_new_tokens=max_new_tokens or config.eval.max_new_tokens,
            batch_size=config.eval.batch_size,
        )

    # --- what the run's config decides, per conversation
    def messages(self, question: str) -> list[dict]:
        """A one-question conversation, with the system prompt."""
        return with_system(self.system_prompt, [{"role": "user", "content": question}])

    def route_of(self, messages: list[dict]) -> Route:
        """Who answers this conversation: the adapter, the base model, or the adapter only to decline
        ("defer": the question reaches it through an all-capitals word alone, naming no glossary term
        and quoting no definition; any other answer is the base model's)."""
        if self.adapter != "routed":
            return "adapter" if self.adapter == "on" else "base"
        if self.route == "always":
            return "adapter"
        question = last_question(messages)
        if names_glossary(question, self.terms):
            return "adapter"
        return "defer" if capitalised_words(question) else "base"

    def uses_adapter(self, messages: list[dict]) -> bool:
        """Whether the adapter answers this conversation (first, when it defers)."""
        return self.route_of(messages) != "base"

    def defers(self, messages: list[dict]) -> bool:
        """Whether the adapter answers this conversation only to decline (see `route_of`)."""
        return self.route_of(messages) == "defer"

    def guards(self, messages: list[dict]) -> bool:
        """Whether a decline to this conversation's last question must be replaced: it names a glossary term.
        A question naming a term always reaches the adapter (`route_of`), so no route is computed here."""
        return self.guard and self.adapter != "off" and mentions(last_question(messages), self.terms)

    def undeclined(self, messages: list[dict], answer: str) -> str:
        """`answer`, or when it declines, the best beam answer that does not (the decline if all do).
        The adapter must be active (as `uses_adapter` says) when this is called."""
        if not is_decline(answer):
            return answer
        beams = beam_answers(
            self.model,
            self.tokenizer,
            with_system(self.system_prompt, messages),
            beams=GUARD_BEAMS,
            max_new_tokens=self.max_new_tokens,
        )
        return next((b for b in beams if not is_decline(b)), answer)

    # --- answering
    def ask(self, questions: list[str]) -> list[str]:
        return self.answer([self.messages(q) for q in questions])

    def answer(
        self,
        conversations: list[list[dict]],
        *,
        adapter_answers: list[str] | None = None,
        base_answers: list[str] | None = None,
    ) -> list[str]:
        """Greedy answers to conversations (each ending with a user question), batched.

        `adapter_answers` / `base_answers`: greedy answers to the same conversations with the
        adapter on / off, when they are already known (an evaluation's weights-only pass, its base
        model's answers): taken instead of generated again, so routing and the guard only add
        their own work."""
        for known in (adapter_answers, base_answers):
            if known is not None and len(known) != len(conversations):
                raise ValueError(f"{len(known)} known answers for {len(conversations)} conversations")
        prompts = [with_system(self.system_prompt, c) for c in conversations]
        routes = [self.route_of(p) for p in prompts]
        answers = [""] * len(prompts)
        adapter = [i for i, r in enumerate(routes) if r != "base"]
        for i, reply in zip(adapter, self._greedy(prompts, adapter, True, adapter_answers), strict=True):
            answers[i] = self.undeclined(prompts[i], reply) if self.guards(prompts[i]) else reply
        base = [i for i, r in enumerate(routes) if r == "base"]
        # Then the acronyms the glossary does not hold and the adapter did not decline: a pass of
        # their own, so the other questions are batched as they always were.
        base_after = [i for i, r in enumerate(routes) if r == "defer" and not is_decline(answers[i])]
        for ids in (base, base_after):
            for i, reply in zip(ids, self._greedy(prompts, ids, False, base_answers), strict=True):
                answers[i] = reply
        return answers

    def _greedy(
        self, prompts: list[list[dict]], ids: list[int], adapter_on: bool, known: list[str] | None
    ) -> list[str]:
        """Greedy answers to `prompts[i]` for i in `ids`, the adapter on or off: `known[i]` where
        given, else generated, batched."""
        if known is not None:
            return [known[i] for i in ids]
        if not ids:
            return []
        with adapter_off(self.model, not adapter_on):
            return answer_questions(
                self.model,
                self.tokenizer,
                [prompts[i] for i in ids],
                batch_size=self.batch_size,
                max_new_tokens=self.max_new_tokens,
            )

    def stream(self, conversation: list[dict], write) -> str:
        """One greedy answer, written piece by piece as it is generated; returns the whole answer.
        A guarded question is answered whole first (a decline must be replaced before it is shown),
        and so is a deferring one (only the adapter's decline is shown; else the base model's answer streams)."""
        prompt = with_system(self.system_prompt, conversation)
        route = self.route_of(prompt)
        silent_first = route == "defer" or self.guards(prompt)
        with adapter_off(self.model, route == "base"):
            if not silent_first:
                return stream_answer(self.model, self.tokenizer, prompt, self.max_new_tokens, write)
            text = stream_answer(self.model, self.tokenizer, prompt, self.max_new_tokens, lambda _: None)
            if route == "defer" and not is_decline(text):
                with adapter_off(self.model, True):
                    return stream_answer(self.model, self.tokenizer, prompt, self.max_new_tokens, write)
            if route != "defer":
                text = self.undeclined(prompt, text)
        write(text)
        return text
