"""Negative training conversations: questions about invented acronyms, answered "I don't know it".

    python -c "from lexitune.generate.negatives import DECLINES; print(DECLINES['fr'])"

The naive version teaches the wrong rule. Asked in phrasings the glossary's terms never use, the
negatives make the model decline *unfamiliar phrasings* rather than *unknown terms* (held-out recall
fell from 1.00 to 0.57). So negatives here are asked with exactly the glossary's training styles,
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

# Polite declines, each recognised by evaluate.probes.decline (tests check every one).
DECLINES: dict[str, list[str]] = {
    "en": [
        "I don't know the term {term}: it is not in my glossary.",
        "Sorry, I don't know {term}. It isn't in the glossary I was taught.",
        "{term} is not a term I know, and it is not in my glossary.",
        "I'm not familiar with {term}; it is not in my glossary.",
    ],
    "fr": [
        "Je ne connais pas le sigle {term} : il ne figure pas dans mon glossaire.",
        "Désolé, je ne connais pas {term}. Ce terme n’est pas dans mon glossaire.",
        "{term} ne fait pas partie des termes que je connais ; il n’est pas dans mon glossaire.",
        "Je ne connais pas {term} : ce sigle n’est pas dans le glossaire.",
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
