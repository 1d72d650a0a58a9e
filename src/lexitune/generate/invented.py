"""Invented acronyms that look like a glossary's but are not in it (nor any well-known acronym).

    python -c "from lexitune.generate.invented import invented_acronyms; from lexitune.glossary.term import Term; print(invented_acronyms([Term(term='TEC', definition='x')], 5, seed=0, salt='test'))"

Used for negative training conversations and for the abstention probe. Lengths and letters are
drawn from the glossary's own terms, so the model cannot tell an unknown term by its shape; a
candidate equal to any term or alias (case-insensitive) or to a common real acronym is rejected.
The test, validation and training pools use different salts and exclude each other.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter

from lexitune.glossary.term import Term

# Real acronyms a model may rightly know: asking about them as "unknown" would reward wrong declines.
COMMON_ACRONYMS = set(
    "USA UK EU UN CPU GPU RAM ROM DNA RNA NASA FBI CIA BBC CEO CFO TV PC OK AI IT HR PDF URL USB GPS ATM UFO FAQ "
    "HTML CSS API SQL NHS VAT ID DIY ASAP FYI LOL AM PM BC AD SOS VIP TBD ETA CV PS NB MP OMG WHO NATO UNESCO SNCF "
    "TGV RATP PME TVA SMIC CDI CDD RER BNP EDF ONU ADN SIDA HIV AIDS IQ DVD CD LED LCD MBA PHD BA MA UNICEF WWW HTTP "
    "IBM BMW KGB MIT UCLA NBA NFL FIFA UEFA IOC OPEC IMF WTO GDP CO2 SUV RSVP PIN SIM SMS MMS ICU ER DJ MC".split()
)

_WORD = re.compile(r"[A-Za-z]+")


def taken_names(terms: list[Term]) -> set[str]:
    """Every name the glossary uses, upper-cased: terms, aliases, and their letter-only forms."""
    names = set()
    for t in terms:
        for name in [t.term, *t.aliases]:
            names.add(name.upper())
            names.add("".join(_WORD.findall(name)).upper())
    return names


def _shape(terms: list[Term]) -> tuple[list[int], list[str], list[int]]:
    """(lengths, letters, letter weights) of the glossary's terms; defaults for an empty glossary."""
    letters_only = ["".join(_WORD.findall(t.term)).upper() for t in terms]
    lengths = [min(max(len(w), 2), 6) for w in letters_only if w] or [3, 4]
    counts = Counter("".join(letters_only)) or Counter(string.ascii_uppercase)
    # Every letter keeps a little weight so that a small glossary still yields enough candidates.
    alphabet = list(string.ascii_uppercase)
    weights = [counts.get(c, 0) * 4 + 1 for c in alphabet]
    return lengths, alphabet, weights


def invented_acronyms(
    terms: list[Term], count: int, *, seed: int, salt: str, exclude: set[str] | None = None
) -> list[str]:
    """`count` distinct invented acronyms, deterministic for (glossary, seed, salt)."""
    taken = taken_names(terms) | COMMON_ACRONYMS | {e.upper() for e in exclude or set()}
    lengths, alphabet, weights = _shape(terms)
    rng = random.Random(f"{seed}\x00{salt}\x00invented")
    out: list[str] = []
    for _ in range(count * 200):
        if len(out) == count:
            break
        word = "".join(rng.choices(alphabet, weights, k=rng.choice(lengths)))
        if word not in taken and len(set(word)) > 1:
            taken.add(word)
            out.append(word)
    return out


TEST_POOL = 64  # the abstention probe asks about a prefix of this pool; training excludes all of it
VAL_POOL = 16  # checkpoint selection's unknown terms


def abstention_pool(terms: list[Term], count: int, seed: int) -> list[str]:
    """The invented acronyms the abstention probe asks about (never trained on); prefix-stable in `count`."""
    return invented_acronyms(terms, min(count, TEST_POOL), seed=seed, salt="test")


def validation_pool(terms: list[Term], seed: int) -> list[str]:
    """Unknown terms for checkpoint selection: neither tested nor trained on."""
    return invented_acronyms(
        terms, VAL_POOL, seed=seed, salt="val", exclude=set(abstention_pool(terms, TEST_POOL, seed))
    )


def training_pool(terms: list[Term], count: int, seed: int) -> list[str]:
    """Unknown terms for negative training conversations: disjoint from the test and validation pools."""
    exclude = set(abstention_pool(terms, TEST_POOL, seed)) | set(validation_pool(terms, seed))
    return invented_acronyms(terms, count, seed=seed, salt="train", exclude=exclude)
