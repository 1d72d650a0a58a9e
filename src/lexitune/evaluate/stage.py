"""The `eval` stage: the held-out questions and probes answered before and after, scored, written.

The tuned model is measured as its weights answer (`after`): that is what merged, GGUF and Ollama
exports give. When the run routes (`model.route: glossary`) or guards (`model.guard_declines`),
the same questions are also answered that way and reported apart (`after_routed`), so the
answer-time figures are never mistaken for the weights'.

    lexitune eval runs/culinary
    lexitune eval runs/culinary --set model.route=glossary --set eval.limit=10
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from lexitune.config import Config
from lexitune.evaluate.metrics import EmbeddingScorer
from lexitune.evaluate.probes.run import add_probe_metrics, probes_before
from lexitune.evaluate.scoring import expected_definition, score, summarize_families
from lexitune.generate import read_conversations
from lexitune.generate.dataset import Conversation
from lexitune.glossary.term import Term
from lexitune.inference import Answerer, load_base_for, load_terms, load_trained, public_model_id
from lexitune.inference.cache import base_answers
from lexitune.rundir import RunDir, read_json, write_json, write_jsonl


def questions_of(config: Config, test_set: list[Conversation]) -> list[Conversation]:
    return test_set[: config.eval.limit] if config.eval.limit else test_set


def answer_before(base: Answerer, config: Config, run: RunDir, test_set: list[Conversation]) -> list[str] | None:
    """The untuned model's answers, cached by what produced them (questions, model, length...)."""
    if not config.eval.before:
        return None
    prompts = [c.prompt_messages() for c in questions_of(config, test_set)]
    return base_answers(base, config.model.name, prompts, run.before_cache)


def routes(config: Config) -> bool:
    """Whether the tuned model answers differently at answer time than its weights alone."""
    return config.model.route == "glossary" or config.model.guard_declines


def _weights_only(config: Config) -> Config:
    return config.model_copy(
        update={"model": config.model.model_copy(update={"route": "always", "guard_declines": False})}
    )


def evaluate_stage(
    config: Config,
    run: RunDir,
    model,
    tokenizer,
    terms: list[Term],
    test_set: list[Conversation],
    before: list[str] | None,
    train_result: dict | None,
    console: Console,
    probe_before: list[str] | None = None,
) -> dict:
    """Answer the held-out questions and probes with the tuned model; write answers.jsonl,
    probes.jsonl and metrics.json. `before`/`probe_before`: the base model's answers."""
    questions = questions_of(config, test_set)
    prompts = [c.prompt_messages() for c in questions]
    by_term = {t.term: t for t in terms}
    expected = [expected_definition(c, by_term) for c in questions]
    scorer = None if config.eval.embedding_model == "none" else EmbeddingScorer(config.eval.embedding_model)

    # The routed side answers as the weights do except where routing or the guard acts, so it takes
    # the weights' answers, and the base model's where they are the same weights with the adapter
    # off (`before`), and generates only the rest: a guarded decline's beams.
    base_known = hasattr(model, "disable_adapter")
    sides: dict[str, tuple[Answerer, list[str], list[dict]]] = {}
    started = time.perf_counter()
    for side, side_config in [("after", _weights_only(config))] + (
        [("after_routed", config)] if routes(config) else []
    ):
        answerer = Answerer.tuned(model, tokenizer, side_config, terms)
        if side == "after":
            answers = answerer.answer(prompts)
        else:
            answers = answerer.answer(
                prompts, adapter_answers=sides["after"][1], base_answers=before if base_known else None
            )
        sides[side] = (answerer, answers, score(answers, expected, scorer, questions, terms))
    seconds = time.perf_counter() - started
    before_rows = score(before, expected, scorer, questions, terms) if before is not None else None

    judge_agreement = None
    if config.eval.judge is not None:
        from lexitune.evaluate.judge import judge_sides

        info = [
            {"term": c.term, "style": c.style, "question": c.question, "expected": expected[i]}
            for i, c in enumerate(questions)
        ]
        judged = {"before": (before, before_rows)} if before_rows is not None else {}
        judged["after"] = sides["after"][1:]
        judge_agreement = judge_sides(config.eval.judge, info, judged, console)

    rows = []
    for i, c in enumerate(questions):
        row = {"term": c.term, "style": c.style, "question": c.question, "expected": expected[i]}
        if before_rows is not None:
            row["before"] = before[i]
            row.update({f"before_{k}": v for k, v in before_rows[i].items()})
        for side, (_, answers, side_rows) in sides.items():
            row[side] = answers[i]
            row.update({f"{side}_{k}": v for k, v in side_rows[i].items()})
        rows.append(row)
    write_jsonl(run.answers, rows)

    metrics = {
        "model": public_model_id(config.model.name),
        "method": config.train.method,
        "preference": config.train.preference,
        "recipe": config.recipe,
        "recipe_version": config.recipe_version,
        "terms": len({c.term for c in questions}),
        "test_questions": len(questions),
        "route": config.model.route,
        "guard_declines": config.model.guard_declines,
        "before": summarize_families(before_rows, questions) if before_rows is not None else None,
        "after": summarize_families(sides["after"][2], questions),
        "train": train_result,
        "eval": {"seconds": round(seconds, 2), "questions_per_second": round(len(questions) * len(sides) / seconds, 2)},
    }
    if "after_routed" in sides:
        metrics["after_routed"] = summarize_families(sides["after_routed"][2], questions)
    if judge_agreement is not None:
        metrics["judge_agreement"] = judge_agreement
    weights_probes = None
    for side, (answerer, answers, _) in sides.items():
        # Probes answered as this side answers; the base's probe answers are shared by both sides.
        block = {"before": metrics["before"], "after": metrics[side]}
        probe_answers = add_probe_metrics(
            answerer,
            config,
            run,
            terms,
            questions,
            before,
            answers,
            block,
            probe_before,
            probes_file=run.probes if side == "after" else run.probes_routed,
            weights_answers=weights_probes,
            base_known=base_known,
        )
        if side == "after":
            weights_probes = probe_answers
    if "after_routed" not in sides:
        run.probes_routed.unlink(missing_ok=True)  # an earlier routed evaluation's, stale now
    write_json(run.metrics, metrics)
    print_summary(metrics, console)
    return metrics


def evaluate_run(config: Config, run: RunDir, console: Console) -> dict:
    """Evaluate a finished run again (`lexitune eval`), under `config`: its own or one with overrides."""
    model, tokenizer, _ = load_trained(run, config)
    test_set = read_conversations(run.test_data)
    terms = load_terms(run)
    before = probe_before = None
    if config.eval.before:
        # The base model: the same weights with the adapter switched off, or for a full
        # fine-tune the base weights loaded anew (the tuned weights are not the base).
        base = Answerer.base(load_base_for(model, config), tokenizer, config)
        before = answer_before(base, config, run, test_set)
        probe_before = probes_before(base, config, run, terms)
    train_result = read_json(run.train_result) if run.train_result.exists() else None
    return evaluate_stage(
        config, run, model, tokenizer, terms, test_set, before, train_result, console, probe_before=probe_before
    )


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.2f}"


def print_summary(metrics: dict, console: Console) -> None:
    table = Table(title=f"{metrics['model']} · {metrics['method']} · {metrics['test_questions']} held-out questions")
    table.add_column("metric")
    table.add_column("before", justify="right")
    table.add_column("after (weights)", justify="right")
    routed = metrics.get("after_routed")
    if routed:
        table.add_column("after (routed)", justify="right")
    before = metrics.get("before") or {}
    for key, value in metrics["after"].items():
        if value is None and before.get(key) is None:
            continue
        table.add_row(key, _fmt(before.get(key)), _fmt(value), *([_fmt(routed.get(key))] if routed else []))
    console.print(table)
    t = metrics.get("train")
    if t:
        console.print(
            f"training: {t['seconds']:.0f} s, {t['steps']} steps, {t['tokens']} tokens, "
            f"{t['tokens_per_second']:.0f} tokens/s ({t['precision']}: {t['precision_reason']})"
            + (f" on {t['device']}" if t.get("device") else "")
        )
    for side, a in (metrics.get("judge_agreement") or {}).items():
        if isinstance(a, dict) and "agreement" in a and a["agreement"] is not None:
            console.print(
                f"judge vs exact recall ({side}): agree on {a['agreement']:.0%} of {a['judged']} answers; "
                f"{len(a['disagreements'])} disagreements listed in metrics.json"
            )
    console.print(
        f"evaluation: {metrics['eval']['seconds']:.0f} s ({metrics['eval']['questions_per_second']:.1f} questions/s)"
    )
    if routed:
        console.print(
            "after (routed): answer-time routing/guard as the run's config says (eval, chat, serve only; "
            "merged, GGUF and Ollama exports answer as 'after (weights)')"
        )
