"""The `Term` contract: what every glossary loader returns (see DESIGN.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Term(BaseModel):
    """One glossary entry, as written by the user.

    `definition` is the first (or only) meaning; `senses` holds further meanings when the user asked
    to keep duplicates as senses. `source` is `file:line` or an XML path, used in errors and reports.
    """

    term: str
    definition: str
    senses: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    source: str = ""
    extra: dict[str, str] = Field(default_factory=dict, description="e.g. url, website, scope note")

    @property
    def definitions(self) -> list[str]:
        """Every meaning of the term: the definition first, then the other senses."""
        return [self.definition, *self.senses]
