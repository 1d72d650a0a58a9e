"""Conversations that teach a several-sense term to give the sense the question's context asks for.

"What does AAA mean?" is answered with every sense (templates.SENSE_ANSWERS); "In aviation, what
does AAA mean?" with the aviation sense alone. Only senses whose context the glossary gives (a CSV
`context` column, a SKOS scopeNote) get these questions. The last context style is held out for the
test set, whose conversations carry the sense they expect (`Conversation.expected`).

    python -c "from lexitune.generate.contexts import context_conversations"
"""

from __future__ import annotations

import random

from lexitune.config import GenerateConfig
from lexitune.generate.dataset import Conversation, qa_messages
from lexitune.generate.templates import CONTEXT_ANSWERS, CONTEXT_QUESTIONS, fill
from lexitune.glossary.term import Term


def _conversation(
    cfg: GenerateConfig, term: Term, split: str, style: str, context: str, answer: str, definition: str
) -> Conversation:
    """The context question of `style` about one sense, with its answer and the sense it expects."""
    question = CONTEXT_QUESTIONS[cfg.language][style].format(term=term.term, context=context)
    messages = qa_messages(cfg.system_prompt, question, answer)
    return Conversation(term=term.term, split=split, style=style, messages=messages, expected=definition)


def context_conversations(
    terms: list[Term], cfg: GenerateConfig, seed: int
) -> tuple[list[Conversation], list[Conversation]]:
    """(train, test): every training context style, and the held-out one, per sense with a context."""
    language = cfg.language
    *train_styles, test_style = CONTEXT_QUESTIONS[language]
    train: list[Conversation] = []
    test: list[Conversation] = []
    for term in terms:
        rng = random.Random(f"{seed}\x00context\x00{term.term}")
        answers = list(CONTEXT_ANSWERS[language].values())
        rng.shuffle(answers)
        for k, (context, definition) in enumerate(term.sense_contexts):
            for i, style in enumerate(train_styles):
                template = answers[(k + i) % len(answers)]
                answer = fill(template, term.term, [definition], language=language, context=context)
                train.append(_conversation(cfg, term, "train", style, context, answer, definition))
            reference = fill("{term}: {definition}", term.term, [definition], language=language)
            test.append(_conversation(cfg, term, "test", test_style, context, reference, definition))
    return train, test
