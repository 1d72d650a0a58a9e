"""The Ollama Modelfile renders the prompt the model was trained on (serving issue, part 5).

Its TEMPLATE is executed by Go's text/template, the engine Ollama runs, through a harness that
prepares the data as Ollama's server does (ollama_template/main.go): the Modelfile's SYSTEM first
when a request has none, consecutive messages of one role joined. The result must equal the
Hugging Face chat template's rendering of the same conversation as lexitune asks it (the run's
system prompt added when there is none), for single-turn, system, and multi-turn conversations.
Go comes from Debian's golang-go package, which .ci/run installs; without it this test fails.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

HARNESS = Path(__file__).parent / "ollama_template"
CONVERSATIONS = [
    [{"role": "user", "content": "Que veut dire TEC ?"}],
    [{"role": "system", "content": "Réponds en une phrase."}, {"role": "user", "content": "Et PER ?"}],
    [
        {"role": "user", "content": "Que veut dire TEC ?"},
        {"role": "assistant", "content": "TEC signifie Techniques Élémentaires et Culinaires."},
        {"role": "user", "content": "Et le sigle de « Purée et Épice de la Réussite » ?"},
    ],
    [
        {"role": "system", "content": "Tu es bref."},
        {"role": "user", "content": "Bonjour"},
        {"role": "assistant", "content": "Bonjour !"},
        {"role": "user", "content": 'Que veut dire "ZORBA" ? {{ pas un gabarit }}'},
    ],
]


@pytest.fixture(scope="module")
def render(tmp_path_factory):
    go = shutil.which("go")
    assert go, "Go is needed to render Ollama templates: apt-get install golang-go (.ci/run does)"
    binary = tmp_path_factory.mktemp("go") / "render"
    env = {"GOCACHE": str(binary.parent / "cache"), "HOME": str(binary.parent), "PATH": "/usr/bin:/bin"}
    subprocess.run([go, "build", "-o", str(binary), "main.go"], cwd=HARNESS, check=True, env=env)

    def run(template: str, system: str, messages: list[dict]) -> str:
        payload = json.dumps({"template": template, "system": system, "messages": messages})
        return subprocess.run([str(binary)], input=payload, capture_output=True, text=True, check=True).stdout

    return run


def _field(modelfile: str, name: str) -> str:
    match = re.search(rf'^{name} """(.*?)"""', modelfile, re.DOTALL | re.MULTILINE)
    assert match, f"no {name} in the Modelfile"
    return match.group(1)


@pytest.mark.parametrize("with_system_prompt", [True, False])
def test_the_modelfile_template_renders_the_training_prompt(render, tuned_run, tmp_path, with_system_prompt):
    import yaml

    from lexitune.export import export_run
    from lexitune.inference import with_system
    from lexitune.models import load_tokenizer

    run = tuned_run
    if not with_system_prompt:  # the model's own default system prompt then (SmolLM2's)
        run = tmp_path / "run"
        shutil.copytree(tuned_run, run)
        config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
        config["generate"]["system_prompt"] = None
        (run / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = export_run(run, "ollama", tmp_path / "ollama")
    modelfile = (out / "Modelfile").read_text(encoding="utf-8")
    template, system = _field(modelfile, "TEMPLATE"), _field(modelfile, "SYSTEM")
    tokenizer = load_tokenizer(str(run / "adapter"))
    prompt = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))["generate"]["system_prompt"]
    for messages in CONVERSATIONS:
        expected = tokenizer.apply_chat_template(
            with_system(prompt, messages), tokenize=False, add_generation_prompt=True
        )
        assert render(template, system, messages) == expected, messages
    stops = re.findall(r'^PARAMETER stop "(.*)"$', modelfile, re.MULTILINE)
    assert "<|im_end|>" in stops  # the end-of-turn token the model learned ends Ollama's answer too
