"""The whole pipeline, stage by stage: glossary → conversations → before → train → after → metrics.

Each stage is a function taking the resolved config and the run folder, usable alone (the CLI's
`generate`, `train`, `eval` commands) or chained by `run_pipeline` (the CLI's `run`), which loads
the base model once and shares it between stages.

    lexitune run examples/culinary-fr/lexitune.yaml --out runs/culinary
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from lexitune.config import Config, save_config
from lexitune.errors import LexituneError
from lexitune.evaluate.metrics import EmbeddingScorer
from lexitune.evaluate.probes.run import add_probe_metrics, probes_before
from lexitune.evaluate.scoring import expected_definition, score, summarize
from lexitune.generate import generate_conversations, read_conversations, write_conversations
from lexitune.generate.dataset import Conversation
from lexitune.glossary import load_from_config
from lexitune.glossary.term import Term
from lexitune.models import DEFAULT_MODEL, load_model, load_tokenizer
from lexitune.route import adapter_off, answer_as_evaluated
from lexitune.rundir import RunDir, read_json, write_json
from lexitune.train.adapters import prepare_model
from lexitune.train.data import tokenize_all
from lexitune.train.distributed import current_world
from lexitune.train.loop import TrainResult, _steps_per_epoch, train
from lexitune.train.replay import replay_conversations
from lexitune.train.selection import Selector

DEFAULT_HF_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def start_run(config: Config, root: Path, resume: bool) -> RunDir:
    """Create the run folder; refuse to overwrite a run unless resuming it."""
    run = RunDir(root)
    if not current_world().is_main:
        return run  # under `accelerate launch` the main process checks and creates the folder
    if run.config.exists() and not resume:
        raise LexituneError(f"{root}: already holds a run; pass --resume to continue it, or choose another --out")
    run.root.mkdir(parents=True, exist_ok=True)
    save_config(config, run.config)
    return run


def prepare_data(
    config: Config, run: RunDir, console: Console
) -> tuple[list[Term], list[Conversation], list[Conversation]]:
    """Load the glossary and write data/train.jsonl and data/test.jsonl (kept as is when resuming)."""
    terms = load_from_config(config.glossary) if config.glossary.path else []
    if run.train_data.exists() and run.test_data.exists():
        train_set, test_set = read_conversations(run.train_data), read_conversations(run.test_data)
    else:
        if not terms and config.generate.conversations is None:
            raise LexituneError("glossary.path: no glossary given (and no generate.conversations file)")
        report: dict = {}
        train_set, test_set = generate_conversations(terms, config.generate, config.seed, report=report)
        write_conversations(run.train_data, train_set)
        write_conversations(run.test_data, test_set)
        if report:  # what an LLM backend kept, dropped and why, and what it cost
            write_json(run.generation_report, report)
    write_json(run.glossary, [t.model_dump() for t in terms])
    console.print(f"{len(terms)} terms → {len(train_set)} training and {len(test_set)} held-out conversations")
    return terms, train_set, test_set


def load_terms(run: RunDir) -> list[Term]:
    return [Term.model_validate(t) for t in read_json(run.glossary)] if run.glossary.exists() else []


def _questions(config: Config, test_set: list[Conversation]) -> list[Conversation]:
    return test_set[: config.eval.limit] if config.eval.limit else test_set


def _answer(model, tokenizer, config: Config, questions: list[Conversation], terms: list[Term] | None = None):
    """The answers to held-out questions, as evaluation asks them (before: no terms; after: with them)."""
    return answer_as_evaluated(model, tokenizer, config, [c.prompt_messages() for c in questions], terms)


def answer_before(model, tokenizer, config: Config, run: RunDir, test_set: list[Conversation]) -> list[str] | None:
    """The untuned model's answers, cached in the run so a resumed run does not pay twice."""
    if not config.eval.before:
        return None
    if run.before_cache.exists():
        return read_json(run.before_cache)
    questions = _questions(config, test_set)
    answers = _answer(model, tokenizer, config, questions)
    write_json(run.before_cache, answers)
    return answers


def train_stage(
    config: Config,
    run: RunDir,
    model,
    tokenizer,
    train_set: list[Conversation],
    *,
    resume: bool,
    console: Console,
    callbacks=None,
    curve=None,
) -> tuple[object, TrainResult]:
    """Train; with a learning `curve`, measure recall while training and keep the best weights."""
    terms = load_terms(run)
    # Replay answers come from the base model, so they are written before the adapter exists.
    n_glossary = sum(not c.style.startswith("negative/") for c in train_set)
    train_set = train_set + replay_conversations(model, tokenizer, config, run, terms, n_glossary)
    torch.manual_seed(config.seed)  # LoRA's initial weights
    model = prepare_model(model, config.train)
    if curve is not None:
        curve.bind(model)
        callbacks = [*(callbacks or []), curve]
    examples = tokenize_all(tokenizer, train_set, config.train.max_length, config.train.replay_distill)
    selector = None
    if config.train.select:
        total = config.train.max_steps or max(
            1, math.ceil(_steps_per_epoch(len(examples), config.train) * config.train.epochs)
        )
        selector = Selector(model, tokenizer, config, terms, train_set, total)
        callbacks = [*(callbacks or []), selector]
    result = train(
        model,
        examples,
        config.train,
        run.root,
        pad_id=tokenizer.pad_token_id,
        seed=config.seed,
        resume=resume,
        callbacks=callbacks,
        console=console,
    )
    info = asdict(result)
    if curve is not None:
        info["curve"] = curve.finish()
        if info["curve"]["restored_best"]:
            console.print(
                f"kept the best weights: step {info['curve']['best_step']}, curve recall {info['curve']['best_exact_recall']:.2f}"
            )
    if selector is not None:
        write_json(run.root / "selection.json", selector.restore_best())
    if current_world().is_main:  # under `accelerate launch` every process trained the same weights
        save_trained(model, tokenizer, config, run)
        write_json(run.train_result, info)
    return model, result


def save_trained(model, tokenizer, config: Config, run: RunDir) -> Path:
    """adapter/ in PEFT format (or model/ for full fine-tuning), with tokenizer and chat template."""
    target = run.full_model if config.train.method == "full" else run.adapter
    if config.train.method != "full" and config.model.name == DEFAULT_MODEL:
        # Name the public model, not this machine's cache path, so peft can load the adapter anywhere.
        for peft_config in model.peft_config.values():
            peft_config.base_model_name_or_path = DEFAULT_HF_ID
    # Embeddings are frozen under LoRA; saying so skips peft's online check of the base config.
    model.save_pretrained(target, **({} if config.train.method == "full" else {"save_embedding_layers": False}))
    tokenizer.save_pretrained(target)
    return target


def load_trained(run: RunDir, config: Config | None = None):
    """The tuned model of a finished run, ready to answer: (model, tokenizer, config)."""
    config = config or run.load_config()
    weights = run.trained_weights()
    tokenizer = load_tokenizer(str(weights))
    if weights == run.full_model:
        return load_model(str(weights)).eval(), tokenizer, config
    from peft import PeftModel

    model = PeftModel.from_pretrained(load_model(config.model.name), str(weights))
    return model.eval(), tokenizer, config


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
) -> dict:
    """Answer the held-out questions with the tuned model; write answers.jsonl and metrics.json."""
    questions = _questions(config, test_set)
    started = time.perf_counter()
    after = _answer(model, tokenizer, config, questions, terms)
    seconds = time.perf_counter() - started
    by_term = {t.term: t for t in terms}
    expected = [expected_definition(c, by_term) for c in questions]
    scorer = None if config.eval.embedding_model == "none" else EmbeddingScorer(config.eval.embedding_model)
    after_rows = score(after, expected, scorer)
    before_rows = score(before, expected, scorer) if before is not None else None
    judge_agreement = None
    if config.eval.judge is not None:
        from lexitune.evaluate.judge import judge_sides

        info = [
            {"term": c.term, "style": c.style, "question": c.question, "expected": expected[i]}
            for i, c in enumerate(questions)
        ]
        sides = {"before": (before, before_rows)} if before_rows is not None else {}
        judge_agreement = judge_sides(config.eval.judge, info, {**sides, "after": (after, after_rows)}, console)
    rows = []
    for i, c in enumerate(questions):
        row = {"term": c.term, "style": c.style, "question": c.question, "expected": expected[i]}
        if before_rows is not None:
            row["before"] = before[i]
            row.update({f"before_{k}": v for k, v in before_rows[i].items()})
        row["after"] = after[i]
        row.update({f"after_{k}": v for k, v in after_rows[i].items()})
        rows.append(row)
    write_jsonl(run.answers, rows)
    metrics = {
        "model": DEFAULT_HF_ID if config.model.name == DEFAULT_MODEL else config.model.name,
        "method": config.train.method,
        "terms": len({c.term for c in questions}),
        "test_questions": len(questions),
        "route": config.model.route,
        "guard_declines": config.model.guard_declines,
        "before": summarize(before_rows) if before_rows is not None else None,
        "after": summarize(after_rows),
        "train": train_result,
        "eval": {"seconds": round(seconds, 2), "questions_per_second": round(len(questions) / seconds, 2)},
    }
    if judge_agreement is not None:
        metrics["judge_agreement"] = judge_agreement
    add_probe_metrics(model, tokenizer, config, run, terms, questions, before, after, metrics)
    write_json(run.metrics, metrics)
    print_summary(metrics, console)
    return metrics


def evaluate_run(config: Config, run: RunDir, console: Console) -> dict:
    """Evaluate a finished run again (`lexitune eval`), under `config`: its own or one with overrides."""
    model, tokenizer, _ = load_trained(run, config)
    test_set = read_conversations(run.test_data)
    terms = load_terms(run)
    before = None
    if config.eval.before:
        # The base model's answers: the same weights with the adapter switched off.
        with adapter_off(model, True):
            before = answer_before(model, tokenizer, config, run, test_set)
            probes_before(model, tokenizer, config, run, terms)
    train_result = read_json(run.train_result) if run.train_result.exists() else None
    return evaluate_stage(config, run, model, tokenizer, terms, test_set, before, train_result, console)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    import json

    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)


def print_summary(metrics: dict, console: Console) -> None:
    table = Table(title=f"{metrics['model']} · {metrics['method']} · {metrics['test_questions']} held-out questions")
    table.add_column("metric")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    before = metrics.get("before") or {}
    for key, value in metrics["after"].items():
        if value is None and before.get(key) is None:
            continue
        fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
        table.add_row(key, fmt(before.get(key)), fmt(value))
    console.print(table)
    t = metrics.get("train")
    if t:
        console.print(
            f"training: {t['seconds']:.0f} s, {t['steps']} steps, {t['tokens']} tokens, "
            f"{t['tokens_per_second']:.0f} tokens/s ({t['precision']}: {t['precision_reason']})"
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
    if metrics.get("route") == "glossary":
        console.print("routing: questions naming no glossary term and no acronym were answered by the base model")
    if metrics.get("guard_declines"):
        console.print(
            "guard: declines to questions naming a glossary term were replaced by the best beam answer that does not decline"
        )


def train_pipeline(config: Config, run: RunDir, tracker, console: Console, *, resume: bool = False, on_curve=None):
    """Generate, answer with the base model, train: what `lexitune run` and `lexitune train` share.

    Returns (terms, test_set, tokenizer, model, before, result); the base model is loaded once."""
    from lexitune.evaluate.curve import make_curve

    terms, train_set, test_set = prepare_data(config, run, console)
    tokenizer = load_tokenizer(config.model.name)
    model = load_model(config.model.name)
    before = answer_before(model, tokenizer, config, run, test_set)
    probes_before(model, tokenizer, config, run, terms)
    curve = make_curve(config, run, tokenizer, terms, test_set, tracker=tracker, on_point=on_curve, resume=resume)
    model, result = train_stage(
        config,
        run,
        model,
        tokenizer,
        train_set,
        resume=resume,
        console=console,
        callbacks=[tracker.log_step],
        curve=curve,
    )
    return terms, test_set, tokenizer, model, before, result


def run_pipeline(
    config: Config, out: Path, *, resume: bool = False, console: Console | None = None, on_curve=None
) -> dict | None:
    """Everything, once: the base model is loaded a single time and shared by every stage.

    The run is tracked (config.tracking) and ends with report.html; `on_curve(step, recall)` is
    called at each learning-curve point (a sweep prunes trials there by raising). Under
    `accelerate launch` only the main process evaluates (the others return None)."""
    from lexitune.report import write_run_report
    from lexitune.track import tracked

    console = console or Console(stderr=True)
    run = start_run(config, out, resume)
    with tracked(config, run) as tracker:
        terms, test_set, tokenizer, model, before, _ = train_pipeline(
            config, run, tracker, console, resume=resume, on_curve=on_curve
        )
        if not current_world().is_main:
            return None
        metrics = evaluate_stage(
            config, run, model, tokenizer, terms, test_set, before, read_json(run.train_result), console
        )
        write_run_report(run)
        tracker.log_run_folder(run)
    console.print(f"run folder: {run.root}  (report: {run.report})")
    return metrics
