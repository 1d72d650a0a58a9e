"""Ask the probes with the base and the tuned model, and turn the answers into metrics.json keys.

    python -c "from lexitune.evaluate.probes.run import probe_prompts; from lexitune.config import Config; print(probe_prompts(Config(), [])[0])"

Probes are asked exactly like the glossary: the model's chat template and the run's system prompt
(`generate.system_prompt`, the scope), so a scope prompt that helps abstention is also charged for
what it costs on general questions. Unknown terms are asked in the glossary's language and held-out
question styles: the same phrasings as the held-out glossary questions, so declining by phrasing
shows up as false abstention and declining by term as abstention.
"""

from __future__ import annotations

from lexitune.config import Config
from lexitune.evaluate.metrics import contains_definition
from lexitune.evaluate.probes.decline import is_decline
from lexitune.evaluate.probes.general import general_question, load_general, retention
from lexitune.generate.dataset import Conversation
from lexitune.generate.invented import abstention_pool
from lexitune.generate.split import family, style_pools
from lexitune.generate.templates import QUESTIONS
from lexitune.glossary.term import Term
from lexitune.inference import Answerer, with_system
from lexitune.inference.cache import base_answers
from lexitune.rundir import RunDir, write_jsonl


def probe_prompts(config: Config, terms: list[Term]) -> list[dict]:
    """General questions (kind 'general') and questions about invented acronyms (kind 'unknown')."""
    prompts = [
        {"kind": "general", "id": q.id, "language": q.language, "question": q.question, "accepted": list(q.accepted)}
        for q in load_general("test", config.eval.probe_limit)
    ]
    if config.eval.unknown_terms:
        _, test_styles = style_pools(config.generate)
        for term in abstention_pool(terms, config.eval.unknown_terms, config.seed):
            for style in test_styles:
                question = QUESTIONS[config.generate.language][style].format(term=term)
                prompts.append({"kind": "unknown", "id": f"{term}/{style}", "term": term, "question": question})
    for p in prompts:
        p["messages"] = with_system(config.generate.system_prompt, [{"role": "user", "content": p["question"]}])
    return prompts


def probes_before(base: Answerer, config: Config, run: RunDir, terms: list[Term]) -> list[str] | None:
    """The base model's probe answers, cached by what produced them (eval/probes_before.json)."""
    if not (config.eval.probes and config.eval.before):
        return None
    prompts = probe_prompts(config, terms)
    return base_answers(base, config.model.name, [p["messages"] for p in prompts], run.probes_before_cache)


def _judge(prompt: dict, answer: str) -> dict:
    if prompt["kind"] == "general":
        return {"correct": general_question(prompt["id"]).is_right(answer)}
    return {"declined": is_decline(answer)}


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def probe_results(
    prompts: list[dict], before: list[str] | None, after: list[str]
) -> tuple[list[dict], dict, dict | None]:
    """(per-question rows for probes.jsonl, after metrics, before metrics or None)."""
    rows = []
    for i, p in enumerate(prompts):
        row = {k: v for k, v in p.items() if k != "messages"}
        if before is not None:
            row["before"] = before[i]
            row.update({f"before_{k}": v for k, v in _judge(p, before[i]).items()})
        row["after"] = after[i]
        row.update({f"after_{k}": v for k, v in _judge(p, after[i]).items()})
        rows.append(row)
    general = [r for r in rows if r["kind"] == "general"]
    unknown = [r for r in rows if r["kind"] == "unknown"]

    def side(name: str) -> dict:
        return {
            "general_accuracy": _share([r[f"{name}_correct"] for r in general]),
            "abstention": _share([r[f"{name}_declined"] for r in unknown]),
        }

    after_metrics = side("after")
    before_metrics = side("before") if before is not None else None
    if before is not None:
        right_before = [r["before_correct"] for r in general]
        after_metrics["retention"] = retention(right_before, [r["after_correct"] for r in general])
        before_metrics["retention"] = 1.0 if any(right_before) else None  # the base keeps all it knows
    else:
        after_metrics["retention"] = None
    return rows, after_metrics, before_metrics


def glossary_side_metrics(
    answers: list[str],
    terms_asked: list[str],
    terms: dict[str, Term],
    asked_senses: list[str | None] | None = None,
) -> dict:
    """`false_abstention` (glossary questions declined), `senses` (all senses given to a question
    that names no context) and `sense_context` (the asked sense given, and none of the term's other
    senses, to a question that names its context); null where no question of that kind was asked."""
    asked_senses = asked_senses or [None] * len(answers)
    several, in_context = [], []
    for answer, name, sense in zip(answers, terms_asked, asked_senses, strict=True):
        term = terms.get(name)
        if term is None or not term.senses:
            continue
        if sense is None:
            several.append(all(contains_definition(answer, d) for d in term.definitions))
        else:
            # A sense that contains the asked one (or is contained in it) cannot be told apart in text.
            others = [d for d in term.definitions if sense not in d and d not in sense]
            in_context.append(
                contains_definition(answer, sense) and not any(contains_definition(answer, d) for d in others)
            )
    return {
        "false_abstention": _share([is_decline(a) for a in answers]),
        "senses": _share(several),
        "sense_context": _share(in_context),
    }


def add_probe_metrics(
    tuned: Answerer,
    config: Config,
    run: RunDir,
    terms: list[Term],
    questions: list[Conversation],
    before: list[str] | None,
    after: list[str],
    metrics: dict,
    probe_before: list[str] | None,
    probes_file=None,
    weights_answers: list[str] | None = None,
    base_known: bool = False,
) -> list[str] | None:
    """Ask the probes with the tuned model; add the new keys to metrics' `before`/`after` blocks,
    write probes.jsonl, and return the tuned model's probe answers (None without probes).
    `probe_before`: the base model's probe answers (`probes_before`); `weights_answers`: the weights'
    own probe answers when known, and with `base_known` the base model's are `probe_before` (the
    same weights, the adapter off), so a routed side generates only what routing adds."""
    by_term = {t.term: t for t in terms}
    # Over the forward questions ("what does TERM mean?"): a reverse question's right answer is the
    # term alone, and the sealed family is reported apart, so neither belongs in these shares.
    forward = [i for i, c in enumerate(questions) if family(c.style) == "forward"]
    asked, senses = [questions[i].term for i in forward], [questions[i].expected for i in forward]
    metrics["after"].update(glossary_side_metrics([after[i] for i in forward], asked, by_term, senses))
    if metrics.get("before") is not None and before is not None:
        metrics["before"].update(glossary_side_metrics([before[i] for i in forward], asked, by_term, senses))
    if not config.eval.probes:
        return None
    prompts = probe_prompts(config, terms)
    answers = tuned.answer(
        [p["messages"] for p in prompts],
        adapter_answers=weights_answers,
        base_answers=probe_before if base_known else None,
    )
    rows, after_metrics, before_metrics = probe_results(prompts, probe_before, answers)
    metrics["after"].update(after_metrics)
    if metrics.get("before") is not None and before_metrics is not None:
        metrics["before"].update(before_metrics)
    write_jsonl(probes_file or run.probes, rows)
    return answers
