"""Routing: the adapter answers what may be about the glossary, the base model everything else.

    lexitune run examples/culinary-fr/lexitune.yaml --set model.route=glossary

Training can narrow what the adapter changes (replay, negatives), never remove it: a small model
tuned on a glossary still answers a few general questions differently from the base model, and
each such answer is a coin toss. With `model.route: glossary` a question goes to the adapter only
when it names a glossary term or alias, or holds an all-capitals word (an acronym the adapter must
define, decline, or leave to what the base knew); any other question is answered by the same
weights with the adapter switched off, so it gets exactly the base model's answer. Evaluation,
`lexitune chat` and `lexitune serve` route alike. Merged weights, GGUF and Ollama exports have no
adapter to switch off: they answer like `model.route: always`.

`model.guard_declines: true` closes the other gap: a tuned model that learned to decline unknown
acronyms sometimes declines a glossary term it knows ("PAVU : je ne connais pas ce sigle"). The
glossary says the term is known, so such an answer is never given: the model's best beam-search
answer that does not decline replaces it (the definition must still come from the model; when
every beam declines, the decline stays). Questions about terms not in the glossary are untouched,
so abstention is still the model's own.
"""

from __future__ import annotations

import contextlib

from lexitune.config import Config
from lexitune.evaluate.generation import answer_questions, beam_answers
from lexitune.evaluate.probes.decline import is_decline
from lexitune.glossary.term import Term, capitalised_words, mentions

# Beams the guard searches for an answer that does not decline. The culinary run's declined glossary
# questions found their definition at the first or second beam; 8 leaves room for decline variants.
GUARD_BEAMS = 8


def may_concern_glossary(text: str, terms: list[Term]) -> bool:
    """True when `text` names a glossary term or alias, or holds a word that reads as an acronym."""
    return mentions(text, terms) or bool(capitalised_words(text))


def last_question(messages: list[dict]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


def uses_adapter(config: Config, terms: list[Term], messages: list[dict]) -> bool:
    """Whether the adapter answers this conversation: always, unless routing sends its last question to the base."""
    if config.model.route == "always":
        return True
    return may_concern_glossary(last_question(messages), terms)


def guards(config: Config, terms: list[Term], messages: list[dict]) -> bool:
    """Whether a decline to this conversation's last question must be replaced: it names a glossary term."""
    return config.model.guard_declines and mentions(last_question(messages), terms)


def undeclined(model, tokenizer, prompt: list[dict], answer: str, max_new_tokens: int) -> str:
    """`answer`, or when it declines, the best beam answer that does not (the decline if all do)."""
    if not is_decline(answer):
        return answer
    beams = beam_answers(model, tokenizer, prompt, beams=GUARD_BEAMS, max_new_tokens=max_new_tokens)
    return next((b for b in beams if not is_decline(b)), answer)


def adapter_off(model, off: bool):
    """A context with the adapter switched off when `off` (and the model has one), else nothing."""
    return model.disable_adapter() if off and hasattr(model, "disable_adapter") else contextlib.nullcontext()


def answer_routed(
    model, tokenizer, config: Config, terms: list[Term], prompts: list[list[dict]], **generation
) -> list[str]:
    """answer_questions, each prompt answered with or without the adapter as routing says, and
    declines to glossary terms replaced as `model.guard_declines` says."""
    on = [uses_adapter(config, terms, p) for p in prompts]
    answers = [""] * len(prompts)
    for side in (True, False):
        ids = [i for i, o in enumerate(on) if o is side]
        if not ids:
            continue
        with adapter_off(model, not side):
            side_answers = answer_questions(model, tokenizer, [prompts[i] for i in ids], **generation)
            for i, answer in zip(ids, side_answers, strict=True):
                if side and guards(config, terms, prompts[i]):
                    answer = undeclined(model, tokenizer, prompts[i], answer, generation.get("max_new_tokens", 48))
                answers[i] = answer
    return answers


def answer_as_evaluated(
    model, tokenizer, config: Config, prompts: list[list[dict]], terms: list[Term] | None = None
) -> list[str]:
    """Greedy answers as evaluation asks (eval.batch_size, eval.max_new_tokens): the model as it is
    without `terms` (the base model), routed and guarded as the config says with them (the tuned one)."""
    generation = {"batch_size": config.eval.batch_size, "max_new_tokens": config.eval.max_new_tokens}
    if terms is None:
        return answer_questions(model, tokenizer, prompts, **generation)
    return answer_routed(model, tokenizer, config, terms, prompts, **generation)
