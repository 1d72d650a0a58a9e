"""Vary the surface of training questions so that only the term predicts the answer.

    lexitune run examples/culinary-fr/lexitune.yaml --set generate.negatives=1 --set experimental.augment=0.5

With negatives in training, the model must tell a glossary term from an invented one. Eight
question templates are few: it learns "this phrasing, this term: a definition", and a held-out
phrasing, above all one that itself says "I don't understand", tips it toward a decline. A share of
the training questions (glossary, context and negative alike, so the decoration predicts nothing)
gets an opener or a closer: a greeting, a hedge, a "I don't understand this acronym". None of them
is part of a held-out template. Questions only: answers, and the held-out set, are unchanged.
"""

from __future__ import annotations

import random

from lexitune.generate.dataset import Conversation, Message

OPENERS: dict[str, list[str]] = {
    "en": [
        "Hi, ",
        "Hello! ",
        "Quick one: ",
        "Sorry to bother you. ",
        "I have a question. ",
        "I'm new on the team. ",
        "I'm not sure I understand. ",
        "Good morning. ",
    ],
    "fr": [
        "Bonjour, ",
        "Salut ! ",
        "Question rapide : ",
        "Désolé de te déranger. ",
        "J’ai une question. ",
        "Je suis nouveau dans l’équipe. ",
        "Je ne suis pas sûr de bien saisir. ",
        "Bonne journée ! ",
    ],
}

CLOSERS: dict[str, list[str]] = {
    "en": [
        " Thanks!",
        " Thanks in advance.",
        " I can't find it anywhere.",
        " I don't understand this acronym.",
        " It's for a report.",
        " Keep it short.",
        " I don't know it.",
    ],
    "fr": [
        " Merci !",
        " Merci d’avance.",
        " Je ne le trouve nulle part.",
        " Ce sigle ne me dit rien.",
        " C’est pour un rapport.",
        " Fais court.",
        " Je ne le connais pas.",
    ],
}


def decorate(question: str, language: str, rng: random.Random) -> str:
    """An opener, a closer or both around the question."""
    kind = rng.choice(["open", "close", "both"])
    if kind in ("open", "both"):
        opener = rng.choice(OPENERS[language])
        question = opener + (question[:1].lower() + question[1:] if opener.rstrip().endswith(",") else question)
    if kind in ("close", "both"):
        question = question + rng.choice(CLOSERS[language])
    return question


def augment(conversations: list[Conversation], language: str, share: float, seed: int) -> list[Conversation]:
    """The same conversations, a `share` of them with their (single) question decorated."""
    if share <= 0:
        return conversations
    rng = random.Random(f"{seed}\x00augment")
    out = []
    for c in conversations:
        users = [i for i, m in enumerate(c.messages) if m.role == "user"]
        if len(users) != 1 or rng.random() >= share:
            out.append(c)
            continue
        messages = list(c.messages)
        i = users[0]
        messages[i] = Message(role="user", content=decorate(messages[i].content, language, rng))
        out.append(c.model_copy(update={"messages": messages}))
    return out
