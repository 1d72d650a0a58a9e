"""The `Term` contract: what every glossary loader returns (see DESIGN.md)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, model_validator


class Term(BaseModel):
    """One glossary entry, as written by the user.

    `definition` is the first (or only) meaning; `senses` holds further meanings when the user asked
    to keep duplicates as senses. `contexts[i]`, where given, names the domain in which
    `definitions[i]` applies (a CSV `context` column, a SKOS scopeNote): "" or a missing entry means
    none. `source` is `file:line` or an XML path, used in errors and reports.
    """

    term: str
    definition: str
    senses: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    source: str = ""
    contexts: list[str] = Field(default_factory=list, description="per definition, where it applies")
    extra: dict[str, str] = Field(default_factory=dict, description="e.g. url, website, scope note")

    @model_validator(mode="after")
    def _contexts_fit(self) -> Term:
        if len(self.contexts) > 1 + len(self.senses):
            raise ValueError(f"{self.term}: {len(self.contexts)} contexts for {1 + len(self.senses)} definitions")
        return self

    @property
    def definitions(self) -> list[str]:
        """Every meaning of the term: the definition first, then the other senses."""
        return [self.definition, *self.senses]

    def context_of(self, index: int) -> str:
        """Where `definitions[index]` applies, or "" when the glossary does not say."""
        return self.contexts[index] if index < len(self.contexts) else ""

    @property
    def sense_contexts(self) -> list[tuple[str, str]]:
        """(context, definition) for every sense of a several-sense term whose context is known."""
        if not self.senses:
            return []
        return [(self.context_of(i), d) for i, d in enumerate(self.definitions) if self.context_of(i)]


_ALL_CAPITALS = re.compile(r"\b[A-Z][A-Z0-9]+\b")


def capitalised_words(text: str) -> list[str]:
    """The all-capitals words of `text` (two characters or more): what reads as an acronym."""
    return _ALL_CAPITALS.findall(text)


def mentions(text: str, terms: list[Term]) -> bool:
    """True when `text` contains a glossary term or alias as a word, ignoring case."""
    for t in terms:
        for name in [t.term, *t.aliases]:
            if name.strip() and re.search(rf"(?<!\w){re.escape(name.strip())}(?!\w)", text, re.IGNORECASE):
                return True
    return False
