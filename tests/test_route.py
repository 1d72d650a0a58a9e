"""model.route: glossary: the adapter answers what names the glossary or an acronym, the base model the rest,
alike in evaluation, chat and the server."""

from __future__ import annotations

import json
import shutil

import openai
import pytest
import yaml

from lexitune.config import Config, load_config
from lexitune.errors import LexituneError
from lexitune.evaluate.probes.decline import is_decline
from lexitune.glossary.term import Term
from lexitune.inference import Answerer
from lexitune.inference.answerer import may_concern_glossary

TERMS = [Term(term="TEC", definition="Techniques Élémentaires et Culinaires", aliases=["T.E.C."])]
GENERAL = "Quelle est la capitale de la France ?"


def _user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_a_question_concerns_the_glossary_when_it_names_a_term_or_an_acronym():
    assert may_concern_glossary("Que veut dire TEC ?", TERMS)
    assert may_concern_glossary("que veut dire tec ?", TERMS)  # terms match whatever the case
    assert may_concern_glossary("Et T.E.C., c'est quoi ?", TERMS)
    assert may_concern_glossary("What does CPU stand for?", TERMS)  # the adapter knows to leave it be
    assert not may_concern_glossary(GENERAL, TERMS)
    assert not may_concern_glossary("Combien font 2 + 2 ?", TERMS)


def test_a_reverse_question_quoting_a_definition_goes_to_the_adapter():
    assert may_concern_glossary("Quel est le sigle de techniques elementaires et culinaires ?", TERMS)
    assert may_concern_glossary("What's the acronym for Techniques Elémentaires Culinaires?", TERMS)  # a word dropped
    assert not may_concern_glossary("Quelles techniques de cuisine faut-il connaître ?", TERMS)


def _uses_adapter(config: Config, messages: list[dict]) -> bool:
    return Answerer.tuned(None, None, config, TERMS).uses_adapter(messages)


def test_an_acronym_the_glossary_does_not_hold_is_the_adapters_only_to_decline():
    config = load_config(None, ["model.route=glossary"])
    tuned = Answerer.tuned(None, None, config, TERMS)
    assert tuned.defers(_user("What does NASA stand for?")) and tuned.defers(_user("Que veut dire ZORBA ?"))
    assert not tuned.defers(_user("Que veut dire TEC ?"))  # a term: the adapter answers
    assert not tuned.defers(_user("Et T.E.C., c'est quoi ?"))  # an alias
    assert not tuned.defers(_user("Quel est le sigle de Techniques Élémentaires et Culinaires ?"))  # a definition
    assert not tuned.defers(_user("Que veut dire TEC, et NASA ?"))  # names the glossary: the adapter's
    assert not tuned.defers(_user(GENERAL))  # the base model's already
    config.model.route = "always"
    assert not Answerer.tuned(None, None, config, TERMS).defers(_user("What does NASA stand for?"))


def test_known_answers_are_combined_as_routing_says_without_generating():
    """The routed side of an evaluation takes the weights' and the base model's answers it already
    has: no model is needed when routing adds nothing to generate (no guard, no undeclined deferral)."""
    config = load_config(None, ["model.route=glossary", "model.guard_declines=false"])
    tuned = Answerer.tuned(None, None, config, TERMS)
    questions = ["Que veut dire TEC ?", GENERAL, "Que veut dire ZORBA ?", "What does NASA stand for?"]
    adapter = ["TEC : Techniques.", "La capitale est TEC.", "Je ne connais pas ce sigle.", "NASA : Nourriture."]
    base = ["TEC ?", "Paris.", "ZORBA est un film.", "National Aeronautics and Space Administration."]
    got = tuned.answer([_user(q) for q in questions], adapter_answers=adapter, base_answers=base)
    # term → adapter; general → base; ZORBA declined by the adapter → kept; NASA not declined → base
    assert got == ["TEC : Techniques.", "Paris.", "Je ne connais pas ce sigle.", base[3]]
    with pytest.raises(ValueError, match="3 known answers for 4 conversations"):
        tuned.answer([_user(q) for q in questions], adapter_answers=adapter[:3], base_answers=base)


def test_only_the_last_question_decides_and_always_means_always():
    config = load_config(None, ["model.route=always"])
    assert _uses_adapter(config, _user(GENERAL))
    config.model.route = "glossary"
    assert not _uses_adapter(config, _user(GENERAL))
    history = [*_user("Que veut dire TEC ?"), {"role": "assistant", "content": "…"}, *_user(GENERAL)]
    assert not _uses_adapter(config, history)
    assert _uses_adapter(config, [*_user(GENERAL), {"role": "assistant", "content": "…"}, *_user("Et TEC ?")])


def test_full_fine_tuning_cannot_route():
    with pytest.raises(LexituneError, match="^config: model.route glossary needs an adapter to switch off"):
        load_config(None, ["train.method=full", "model.route=glossary"])


@pytest.fixture(scope="module")
def routed_run(trained_run, perturbed_copy, tmp_path_factory):
    """A run whose adapter answers unlike the base model, with model.route: glossary in its config."""
    run = perturbed_copy(trained_run, tmp_path_factory.mktemp("routed") / "run", scale=4.0)
    data = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    data["model"]["route"] = "glossary"
    (run / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return run


def _questions(run) -> tuple[str, str]:
    term = json.loads((run / "data" / "glossary.json").read_text(encoding="utf-8"))[0]["term"]
    return GENERAL, f"Que veut dire {term} ?"


@pytest.mark.slow
def test_evaluation_answers_general_questions_with_the_base_model(routed_run, tmp_path):
    """Three evaluations of one run, one question at a time (so no answer depends on its batch):
    the base model's, the adapter's on every question, and the routed one, which must take each
    answer from the right side."""
    from rich.console import Console

    from lexitune.evaluate.stage import evaluate_run
    from lexitune.rundir import RunDir

    def evaluate(route: str) -> tuple[dict, list[dict]]:
        folder = tmp_path / route
        shutil.copytree(routed_run, folder)
        shutil.rmtree(folder / "eval")  # the base answers again, one at a time too
        run = RunDir(folder)
        config = load_config(run.config, [f"model.route={route}", "eval.batch_size=1", "eval.unknown_terms=2"])
        metrics = evaluate_run(config, run, Console(quiet=True))
        # A routed run keeps the weights' own answers in probes.jsonl, the routed ones beside them.
        name = "probes_routed.jsonl" if route == "glossary" else "probes.jsonl"
        rows = [json.loads(line) for line in (folder / name).read_text(encoding="utf-8").splitlines()]
        return metrics, rows

    always_metrics, always = evaluate("always")
    routed_metrics, routed = evaluate("glossary")
    assert (always_metrics["route"], routed_metrics["route"]) == ("always", "glossary")
    assert "after_routed" in routed_metrics and "after_routed" not in always_metrics
    assert routed_metrics["after"] == always_metrics["after"]  # the weights' figures stay their own
    plain = [i for i, r in enumerate(routed) if not may_concern_glossary(r["question"], [])]
    acronyms = [i for i, r in enumerate(routed) if may_concern_glossary(r["question"], [])]
    assert plain and acronyms and any(r["kind"] == "unknown" for r in routed)
    assert any(always[i]["after"] != always[i]["before"] for i in plain)  # else this test could not fail
    assert all(routed[i]["after"] == routed[i]["before"] for i in plain)
    # An acronym the glossary does not hold: the adapter's decline, or else the base model's answer.
    assert any(always[i]["after"] != always[i]["before"] for i in acronyms)  # else this could not fail
    assert all(
        routed[i]["after"] == (always[i]["after"] if is_decline(always[i]["after"]) else routed[i]["before"])
        for i in acronyms
    )
    # The evaluation's routed side reuses the weights' and the base model's answers; generated
    # anew, question by question, routing gives the same answers.
    from lexitune.inference import load_terms, load_trained

    config = load_config(RunDir(routed_run).config, ["eval.batch_size=1"])
    model, tokenizer, _ = load_trained(RunDir(routed_run), config)
    tuned = Answerer.tuned(model, tokenizer, config, load_terms(RunDir(routed_run)))
    asked = plain + acronyms
    assert tuned.answer([_user(routed[i]["question"]) for i in asked]) == [routed[i]["after"] for i in asked]


def test_chat_routes_each_question(routed_run, capsys, tmp_path):
    from lexitune.chat import chat

    general, term = _questions(routed_run)
    unrouted = shutil.copytree(routed_run, tmp_path / "unrouted")
    data = yaml.safe_load((unrouted / "config.yaml").read_text(encoding="utf-8"))
    data["model"]["route"] = "always"
    (unrouted / "config.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    def said(prompt: str, base: bool = False, run=routed_run) -> str:
        chat(str(run), prompt=prompt, base=base, max_new_tokens=8)
        return capsys.readouterr().out.strip()

    assert said(general) == said(general, base=True)
    assert said(term) != said(term, base=True)
    # An acronym the glossary lacks: this adapter answers it unlike the base and without declining,
    # so routing must give the base model's answer instead.
    unknown = "Que veut dire ZORBA ?"
    adapter = said(unknown, run=unrouted)
    assert adapter != said(unknown, base=True) and not is_decline(adapter)
    assert said(unknown) == said(unknown, base=True)


def test_the_server_routes_each_request(routed_run, live_server):
    from lexitune.serve import AdapterRegistry, create_app

    registry = AdapterRegistry.from_runs({"routed": routed_run})
    general, term = _questions(routed_run)
    assert registry.answering("routed", _user(general)) == "base"
    assert registry.answering("routed", _user(term)) == "routed"
    with live_server(create_app(registry)) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)

        def ask(model: str, question: str) -> str:
            reply = client.chat.completions.create(model=model, messages=_user(question), max_tokens=8)
            assert reply.model == model  # the reply names the model asked for, whoever answered
            return reply.choices[0].message.content

        assert ask("routed", general) == ask("base", general)
        assert ask("routed", term) != ask("base", term)
        # An acronym the glossary lacks, which this adapter does not decline: the base model answers.
        unknown = "Que veut dire ZORBA ?"
        assert registry.answering("routed", _user(unknown)) == "routed"  # the adapter is asked first
        assert ask("routed", unknown) == ask("base", unknown)
