"""Small sums, differences, products and divisions answered by the base model, kept only when right.

    lexitune run examples/uk-public-sector/lexitune.yaml --set experimental.replay_arithmetic=0.25

A glossary run trains many short "What is X?" questions. Arithmetic asked the same way ("Combien
font 2 + 2 ?") was then read as one more unknown term and declined, or answered with a long
detour that never reached the number: the general-knowledge losses of the fixes table that no
shipped replay prompt covered. These conversations ask calculations with operands up to 12 in
the glossary's language and the other one lexitune has templates for, alternating, because the
general probe asks in both. The base model is right a fifth to a third of the time; only those answers
are replayed, checked by computing the result: self-distillation of what it knew, not of its
guesses. No calculation the general probe asks (any split) is ever used. Cached as
`data/replay_arithmetic.jsonl`.
"""

from __future__ import annotations

import operator
import random
import re
from functools import lru_cache

from lexitune.config import Config
from lexitune.evaluate.probes.general import load_general

STYLE = "replay/arithmetic"
MAX_OPERAND = 12
TEMPLATES = {
    "en": {
        "+": ["What is {a} + {b}?", "What is {a} plus {b}?", "How much is {a} + {b}?", "Add {a} and {b}."],
        "-": ["What is {a} - {b}?", "What is {a} minus {b}?", "How much is {a} minus {b}?"],
        "*": ["What is {a} times {b}?", "What is {a} multiplied by {b}?", "How much is {a} x {b}?"],
        "/": ["What is {a} divided by {b}?", "How much is {a} divided by {b}?"],
    },
    "fr": {
        "+": [
            "Combien font {a} + {b} ?", "Combien font {a} plus {b} ?", "Calcule {a} + {b}.", "Additionne {a} et {b}."
        ],
        "-": ["Combien font {a} - {b} ?", "Combien font {a} moins {b} ?", "Combien fait {a} moins {b} ?"],
        "*": ["Combien font {a} fois {b} ?", "Combien fait {a} multiplié par {b} ?", "Calcule {a} x {b}."],
        "/": ["Combien fait {a} divisé par {b} ?", "Calcule {a} divisé par {b}."],
    },
}  # fmt: skip
_OPERATORS = {
    "+": "+", "plus": "+", "add": "+", "additionne": "+",
    "-": "-", "minus": "-", "moins": "-",
    "*": "*", "x": "*", "times": "*", "fois": "*", "multiplied by": "*", "multiplié par": "*",
    "/": "/", "divided by": "/", "divisé par": "/",
}  # fmt: skip
_CALCULATION = re.compile(
    r"(\d+)\s*(\+|-|x|/|plus|minus|moins|times|fois|multiplied by|multiplié par|divided by|divisé par)\s*(\d+)"
)
_ADD_PHRASE = re.compile(r"\b(add|additionne)\s+(\d+)\s+(?:and|et)\s+(\d+)", re.IGNORECASE)
_APPLY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.floordiv}


def calculation(prompt: str) -> tuple[int, str, int] | None:
    """(a, op, b) of a question such as "What is 6 times 2?" or "Additionne 3 et 4.", else None."""
    if m := _ADD_PHRASE.search(prompt):
        return int(m[2]), "+", int(m[3])
    if m := _CALCULATION.search(prompt):
        return int(m[1]), _OPERATORS[m[2].lower()], int(m[3])
    return None


@lru_cache(maxsize=1)
def probe_calculations() -> frozenset[tuple[int, str, int]]:
    """Every calculation the general probe asks, whatever its split: those stay unseen in training."""
    return frozenset(
        c for split in ("test", "val") for q in load_general(split) if (c := calculation(q.question)) is not None
    )


def arithmetic_prompts(config: Config, n: int) -> list[str]:
    """n calculations, none the probe's, languages alternating (the glossary's first), templates varying."""
    rng = random.Random(f"{config.seed}\x00arithmetic")
    languages = [config.generate.language, *sorted(set(TEMPLATES) - {config.generate.language})]
    prompts: list[str] = []
    skip = probe_calculations()
    while len(prompts) < n:
        language = languages[len(prompts) % len(languages)]
        op = rng.choice("+-*/")
        a, b = rng.randint(1, MAX_OPERAND), rng.randint(1, MAX_OPERAND)
        # No negative results, no fractions: a small model's answers to those are noise.
        if op == "-":
            a, b = max(a, b), min(a, b)
        elif op == "/":
            a = a * b
        if (a, op, b) not in skip:
            prompts.append(rng.choice(TEMPLATES[language][op]).format(a=a, b=b))
    return prompts


def keep_answer(prompt: str, answer: str) -> bool:
    """Replay a base answer only when it ends on the result, and the result is more than an operand repeated."""
    asked = calculation(prompt)
    if asked is None:
        return False
    a, op, b = asked
    numbers = re.findall(r"\d+", answer)
    result = str(_APPLY[op](a, b))
    if not numbers or numbers[-1] != result:  # "le calcul est 144" for 144 / 12 names 12 on the way
        return False
    for operand in (str(a), str(b)):  # "Combien font 8 fois 1." repeats the question, it does not answer
        if operand in numbers:
            numbers.remove(operand)
    return result in numbers
