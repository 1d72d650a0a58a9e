"""The settings a user picks in the Data and Train pages, as the CLI arguments they stand for.

The form fields travel from page to page as query parameters, so a reload or a shared link
shows the same choices; the job then runs `lexitune run GLOSSARY --lang .. --set ..`, exactly
the command a terminal user would type (shown on the page).
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, fields
from urllib.parse import urlencode

from lexitune.errors import LexituneError


@dataclass
class Choices:
    file: str = ""  # an uploaded glossary's name
    lang: str = "auto"  # auto | fr | en
    backend: str = "templates"  # templates | openai
    base_url: str = "http://localhost:11434/v1"
    llm_model: str = ""
    api_key_env: str = ""
    recipe: str = "robust"
    model: str = "default"
    seed: int = 0
    name: str = ""
    extra: str = ""  # further `section.key=value` settings, one a line
    invalid: str = ""  # what could not be read (shown in the page; starting a job is refused)

    @classmethod
    def of(cls, values) -> Choices:
        """From a query string or a form (unknown keys ignored, missing ones default)."""
        known = {f.name: f for f in fields(cls) if f.name != "invalid"}
        kept, invalid = {}, []
        for key, value in values.items():
            if key not in known:
                continue
            if known[key].type == "int" and str(value).strip():
                try:
                    value = int(value)
                except ValueError:
                    invalid.append(f"{key} {str(value)[:40]!r}: expected a whole number")
                    continue
            kept[key] = value
        kept = {k: v for k, v in kept.items() if v != ""} | {"extra": kept.get("extra", "")}
        return cls(**kept, invalid="; ".join(invalid))

    def query(self) -> str:
        return urlencode({k: v for k, v in asdict(self).items() if v not in ("", None) and k != "invalid"})

    def overrides(self, *, data_only: bool = False) -> list[str]:
        """`--set` values, in the order a user would write them."""
        if self.invalid:
            raise LexituneError(self.invalid)
        sets = []
        if self.backend == "openai":
            if not self.llm_model:
                raise LexituneError("LLM backend: the model name the server knows (e.g. gemma3:27b) is needed")
            sets += [
                "generate.backend=openai",
                f"generate.base_url={self.base_url}",
                f"generate.model={self.llm_model}",
            ]
            if self.api_key_env:
                sets.append(f"generate.api_key_env={self.api_key_env}")
        if not data_only:
            if self.recipe != "robust":
                sets.append(f"recipe={self.recipe}")
            if self.model and self.model != "default":
                sets.append(f"model.name={self.model}")
            if self.seed:
                sets.append(f"seed={self.seed}")
        for n, line in enumerate(self.extra.splitlines(), 1):
            line = line.strip()
            if line and not line.startswith("#"):
                if "=" not in line:
                    raise LexituneError(f"more settings, line {n}: expected section.key=value, got {line!r}")
                sets.append(line)
        return sets

    def cli_args(self, command: str, glossary, out, *, data_only: bool = False) -> list[str]:
        args = [command, str(glossary), "--out", str(out)]
        if self.lang != "auto":
            args += ["--lang", self.lang]
        for value in self.overrides(data_only=data_only):
            args += ["--set", value]
        return args


def shown(args: list[str]) -> str:
    """The command a terminal user would type for the same job."""
    return "lexitune " + " ".join(shlex.quote(a) for a in args)
