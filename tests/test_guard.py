"""model.guard_declines: a question naming a glossary term never gets a decline when the model has
another answer; questions about terms outside the glossary keep theirs. Alike in evaluation, chat
and the server."""

from __future__ import annotations

import json
import shutil

import openai
import pytest
import yaml

from lexitune.glossary.term import Term
from tests.conftest import teach

# Minutes of CPU together: run by `make test` and CI, left out of `make test-fast`.
pytestmark = pytest.mark.slow


DECLINE = "Je ne connais pas ce sigle."
INVENTED = "ZORBEX"


def _user(text: str) -> list[dict]:
    return [{"role": "user", "content": f"Que veut dire {text} ?"}]


@pytest.fixture(scope="module")
def declining_run(trained_run, tmp_path_factory):
    """A run whose adapter, asked about its first term, declines 3 times in 5 in its training data and
    defines it otherwise: greedy decoding declines, the second most likely answer is the definition.
    About an invented acronym it only ever declines. Its config turns the guard on.

    The tiny model cannot end an answer (its end-of-turn token is its padding token, whose embedding
    is zero), so answers are compared by how they start."""
    from peft import PeftModel

    from lexitune.models import load_model, load_tokenizer

    run = tmp_path_factory.mktemp("guard") / "run"
    shutil.copytree(trained_run, run)
    data = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    data["model"]["guard_declines"] = True
    (run / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    term = Term(**json.loads((run / "data" / "glossary.json").read_text(encoding="utf-8"))[0])
    definition = f"{term.term} : {term.definition}"

    tokenizer = load_tokenizer(str(run / "adapter"))
    model = PeftModel.from_pretrained(load_model(data["model"]["name"]), str(run / "adapter"), is_trainable=True)
    system = [{"role": "system", "content": data["generate"]["system_prompt"]}]
    pairs = [(term.term, DECLINE)] * 3 + [(term.term, definition)] * 2 + [(INVENTED, DECLINE)] * 5
    teach(model, tokenizer, [([*system, *_user(name)], answer) for name, answer in pairs], steps=200, lr=3e-3)
    model.save_pretrained(str(run / "adapter"))
    return run, term, definition


def _answers(run, guard: bool) -> list[str]:
    from lexitune.inference import Answerer, load_terms, load_trained
    from lexitune.rundir import RunDir

    model, tokenizer, config = load_trained(RunDir(run))
    config.model.guard_declines = guard
    terms = load_terms(RunDir(run))
    answerer = Answerer.tuned(model, tokenizer, config, terms, max_new_tokens=48)
    return answerer.answer([_user(name) for name in (terms[0].term, INVENTED)])


def _starts(answers: list[str], *expected: str) -> bool:
    return len(answers) == len(expected) and all(a.startswith(e) for a, e in zip(answers, expected, strict=True))


def test_evaluation_replaces_a_decline_to_a_glossary_term_only(declining_run):
    run, _, definition = declining_run
    assert _starts(_answers(run, guard=False), DECLINE, DECLINE)  # else this test could not fail
    assert _starts(_answers(run, guard=True), definition, DECLINE)


def test_chat_guards_its_answer(declining_run, capsys):
    from lexitune.chat import chat

    run, term, definition = declining_run
    chat(str(run), prompt=_user(term.term)[0]["content"], max_new_tokens=48)
    assert capsys.readouterr().out.startswith(definition)
    chat(str(run), prompt=_user(INVENTED)[0]["content"], max_new_tokens=48)
    assert capsys.readouterr().out.startswith(DECLINE)


def test_the_server_guards_greedy_replies_streamed_or_not(declining_run, live_server):
    from lexitune.serve import AdapterRegistry, create_app

    run, term, definition = declining_run
    registry = AdapterRegistry.from_runs({"guarded": run})
    with live_server(create_app(registry)) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)

        def ask(name: str, **kwargs) -> str:
            reply = client.chat.completions.create(model="guarded", messages=_user(name), max_tokens=48, **kwargs)
            return reply.choices[0].message.content

        def streamed(name: str) -> str:
            chunks = client.chat.completions.create(model="guarded", messages=_user(name), max_tokens=48, stream=True)
            return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

        assert ask(term.term).startswith(definition) and streamed(term.term).startswith(definition)
        assert ask(INVENTED).startswith(DECLINE)
        assert ask(term.term, stop=[":"]).strip() == term.term  # stop strings still cut the replacement


def test_exports_that_cannot_guard_say_so(declining_run, tmp_path):
    from typer.testing import CliRunner

    from lexitune.cli import app

    run, _, _ = declining_run
    merged = CliRunner().invoke(app, ["export", str(run), "--format", "merged", "--out", str(tmp_path / "m")])
    adapter = CliRunner().invoke(app, ["export", str(run), "--format", "adapter", "--out", str(tmp_path / "a")])
    assert merged.exit_code == 0 and adapter.exit_code == 0, merged.output + adapter.output
    assert "model.guard_declines" in merged.output and "model.guard_declines" not in adapter.output
