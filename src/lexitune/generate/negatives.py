"""Negative training conversations: questions about invented acronyms, answered "I don't know it".

    python -c "from lexitune.generate.negatives import DECLINES; print(DECLINES['fr'])"

Asked in phrasings the glossary's terms never use, negatives would teach the model to decline
*unfamiliar phrasings* rather than *unknown terms* (docs/experiments.md has the figures). So
negatives here are asked with exactly the glossary's training styles,
in the same proportions: the phrasing predicts nothing, only the term decides between a
definition and a decline. Held-out styles stay held out for both, and the invented acronyms asked
at evaluation are never among those trained on.
"""

from __future__ import annotations

import random

from lexitune.config import GenerateConfig
from lexitune.generate.dataset import Conversation, qa_messages
from lexitune.generate.invented import training_pool
from lexitune.generate.split import style_pools
from lexitune.generate.templates import QUESTIONS
from lexitune.glossary.term import Term

# Polite declines, each recognised by evaluate.probes.decline (tests check every one). Each opens
# the way the definitions of templates.ANSWERS do (the term, "The acronym {term}", "In this
# glossary, {term}"), so a decline and a definition part only after the term has been written:
# the choice is made where the model attends to the term, not at the first token, where only the
# question's phrasing is known. Declines that opened with "I don't know" had the model decline
# glossary terms asked in unfamiliar phrasings.
DECLINES: dict[str, list[str]] = {
    "en": [
        "{term} is not in my glossary: I don't know this term.",
        "{term}: I don't know this term; it is not in my glossary.",
        "The acronym {term} is not in my glossary, so I don't know it.",
        "In this glossary, {term} does not appear: I don't know this term.",
    ],
    "fr": [
        "{term} ne figure pas dans mon glossaire : je ne connais pas ce sigle.",
        "{term} : je ne connais pas ce sigle, il n’est pas dans mon glossaire.",
        "Le sigle {term} ne figure pas dans mon glossaire : je ne connais pas ce sigle.",
        "Dans ce glossaire, {term} n’apparaît pas ; je ne connais pas ce sigle.",
    ],
}

STYLES_PER_NEGATIVE = 2  # few styles per invented acronym: many distinct acronyms generalise better


def negative_conversations(
    terms: list[Term], cfg: GenerateConfig, seed: int, n_glossary_train: int
) -> list[Conversation]:
    """round(cfg.negatives x n_glossary_train) conversations, styles cycling through the train pool."""
    n = round(cfg.negatives * n_glossary_train)
    if n <= 0:
        return []
    train_pool, _ = style_pools(cfg)
    acronyms = training_pool(terms, -(-n // STYLES_PER_NEGATIVE), seed)
    rng = random.Random(f"{seed}\x00negatives")
    declines = DECLINES[cfg.language]
    out = []
    for i in range(n):
        term = acronyms[i // STYLES_PER_NEGATIVE]
        style = train_pool[i % len(train_pool)]
        question = QUESTIONS[cfg.language][style].format(term=term)
        answer = rng.choice(declines).format(term=term)
        messages = qa_messages(cfg.system_prompt, question, answer)
        out.append(Conversation(term=term, split="train", style=f"negative/{style}", messages=messages))
    return out
