"""The conversation dataset contract: JSONL, one conversation a line (see DESIGN.md).

python -c "from lexitune.generate.dataset import read_conversations; print(read_conversations('runs/x/data/test.jsonl')[0])"
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError, field_validator

from lexitune.errors import LexituneError

Role = Literal["system", "user", "assistant"]


class Message(BaseModel):
    role: Role
    content: str


class Conversation(BaseModel):
    """A question/answer exchange about one term; `style` names the phrasing template."""

    term: str
    split: Literal["train", "test"]
    style: str
    messages: list[Message]
    # The one definition a correct answer must give when it is not the term's first (a question
    # naming the context of one sense); None: the term's definition.
    expected: str | None = None

    @field_validator("messages")
    @classmethod
    def _ends_with_answer(cls, messages: list[Message]) -> list[Message]:
        if not messages or messages[-1].role != "assistant":
            raise ValueError("the last message must be the assistant's answer")
        if not any(m.role == "user" for m in messages):
            raise ValueError("a conversation needs a user message")
        return messages

    @property
    def question(self) -> str:
        return [m for m in self.messages if m.role == "user"][-1].content

    @property
    def answer(self) -> str:
        return self.messages[-1].content

    def prompt_messages(self) -> list[dict]:
        """The messages the model sees before it answers (everything but the last answer)."""
        return [m.model_dump() for m in self.messages[:-1]]


def system_messages(system_prompt: str | None) -> list[Message]:
    """What a training conversation opens with: the scope system prompt, when there is one."""
    return [Message(role="system", content=system_prompt)] if system_prompt else []


def qa_messages(system_prompt: str | None, question: str, answer: str) -> list[Message]:
    """One question and its answer, after the scope system prompt when there is one."""
    return [
        *system_messages(system_prompt),
        Message(role="user", content=question),
        Message(role="assistant", content=answer),
    ]


def write_conversations(path: Path, conversations: list[Conversation]) -> None:
    """Write atomically (and fsync'd), so an interrupted run never leaves half a dataset behind."""
    from lexitune.rundir import write_jsonl

    write_jsonl(path, [c.model_dump() for c in conversations])


def read_conversations(path: Path | str, default_split: str | None = None) -> list[Conversation]:
    """Read a conversations file; a user's own file may omit `split`/`style`/`term` if
    `default_split` is given (then style is 'user' and term is taken from the line number)."""
    path = Path(path)
    if not path.exists():
        raise LexituneError(f"{path}: conversations file not found")
    out = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise LexituneError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
        if default_split is not None and isinstance(row, dict):
            row.setdefault("split", default_split)
            row.setdefault("style", "user")
            row.setdefault("term", f"line{lineno}")
        try:
            out.append(Conversation.model_validate(row))
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise LexituneError(f"{path}:{lineno}: {where}: {err['msg']}") from None
    if not out:
        raise LexituneError(f"{path}: no conversations in file")
    return out
