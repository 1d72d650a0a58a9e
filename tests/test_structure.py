"""The codebase's shape, checked: each verb has a module, answering has one home, the docs are current."""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "lexitune"


def test_every_command_has_a_module_and_every_module_a_command():
    from lexitune.cli import VERBS, app

    commands = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert commands == set(VERBS), commands ^ set(VERBS)
    for module in VERBS.values():
        importlib.import_module(module)


def test_no_stage_imports_the_orchestrator():
    found = subprocess.run(
        ["grep", "-rln", "from lexitune.pipeline", str(SRC)], capture_output=True, text=True
    ).stdout.split()
    assert {Path(p).name for p in found} <= {"cli.py", "sweep.py"}, found


def test_one_module_puts_the_runs_system_prompt_before_a_question():
    """The run's system prompt is put before a question in inference/answerer.py (answering) and
    generate/dataset.py (writing the training data), nowhere else."""
    role = re.compile(r'"role":\s*"system"|role="system"')
    places = {
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if role.search(text := p.read_text(encoding="utf-8")) and "system_prompt" in text
    }
    # export/ writes other tools' files (a model card's usage text, an Ollama template's check).
    assert {p for p in places if not p.startswith("export/")} == {"inference/answerer.py", "generate/dataset.py"}


def test_every_package_says_what_it_does():
    for folder in [p for p in SRC.rglob("*") if p.is_dir() and any(p.glob("*.py"))]:
        init = folder / "__init__.py"
        assert init.exists(), f"{folder} has no __init__.py"
        text = init.read_text(encoding="utf-8").lstrip()
        assert text.startswith('"""'), f"{init} has no docstring"


def test_the_config_reference_is_current():
    from lexitune.config_doc import reference

    written = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert written == reference(), "docs/config.md is stale: python -m lexitune.config_doc > docs/config.md"


def test_the_readme_stays_short():
    assert (ROOT / "README.md").stat().st_size <= 15 * 1024
