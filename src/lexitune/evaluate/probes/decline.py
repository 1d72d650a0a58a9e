"""Does an answer decline ("I don't know this term") or does it assert a definition?

    python -c "from lexitune.evaluate.probes.decline import is_decline as d; print(d('Je ne connais pas le sigle ZORB.'), d('I don\'t know why, but ZORB means Zone Of Real Bread.'))"

The answer is cut into clauses (sentences, `;`, `:`, and "but"/"mais"/"however"). It is a decline
when at least one clause declines and no other clause asserts something about the term: "I'm not
sure, but ZORB probably stands for X" invents a definition all the same, so it is NOT a decline; a
hedge followed by a guess is exactly the behaviour abstention must catch.
"""

from __future__ import annotations

import re

from lexitune.evaluate.metrics import normalize

_CLAUSE = re.compile(r"[.!?;:\n]+|,?\s*\b(?:but|however|mais|cependant|toutefois|pourtant)\b", re.IGNORECASE)

# Patterns on normalised text: lower case, no accents, apostrophes as spaces ("don t", "n est").
_DECLINE = re.compile(
    r"\b("
    r"i (?:don t|do not|didn t|did not) (?:know|recogni[sz]e|have)|i m not (?:sure|familiar|aware)|"
    r"i am not (?:sure|familiar|aware)|not familiar with|(?:is not|isn t|not) (?:in|part of|listed in) (?:my|the|this|our) glossary|"
    r"no (?:information|record|idea)|not a (?:term|word|acronym) i know|(?:can t|cannot|couldn t|could not) find|"
    r"unknown (?:term|acronym|word)|not (?:a )?(?:known|recogni[sz]ed) (?:term|acronym)|i have never heard|"
    r"(?:can t|cannot) (?:tell|say|help)|does not appear|doesn t appear|"
    r"je ne (?:connais|sais|reconnais|trouve|peux) pas|je ne suis pas (?:sur|certain)|je n ai (?:pas|aucune)|"
    r"ne (?:figure|fait) pas|n (?:est|apparait) pas dans|pas dans (?:mon|le|ce|notre) glossaire|aucune (?:information|idee)|"
    r"(?:terme|sigle|mot) inconnu|inconnu"
    r")\b"
)

# A clause that says what the term is: the thing an abstaining answer must not contain.
_ASSERT = re.compile(
    r"\b("
    r"stands? for|means?|meaning is|is short for|short for|refers? to|abbreviation (?:of|for)|acronym for|"
    r"(?:might|could|may|would|probably|likely) (?:be|mean|stand|refer)|probably|is an? |is the |"
    r"signifie|veut dire|designe|correspond|abreviation|pourrait|probablement|peut etre|sans doute|"
    r"est (?:un|une|le|la|l) "
    r")"
)


def clauses(answer: str) -> list[str]:
    return [c for c in (normalize(part) for part in _CLAUSE.split(answer or "")) if c]


def is_decline_clause(clause: str) -> bool:
    return bool(_DECLINE.search(clause))


def is_decline(answer: str) -> bool:
    """True when the answer says it does not know the term and offers no definition of its own."""
    parts = clauses(answer)
    declines = [is_decline_clause(c) for c in parts]
    if not any(declines):
        return False
    return not any(_ASSERT.search(c + " ") for c, d in zip(parts, declines, strict=True) if not d)
