"""The quality bench judges a finished row's general answers again with the current scorer, and
marks the rows it cannot judge again."""

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "quality.py"
FAQ_WRONG = (
    'FAQ stands for "What\'s a Favorite Answer?" and is a web page that provides answers to frequently asked questions.'
)


def _quality():
    spec = importlib.util.spec_from_file_location("bench_quality", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _probe(qid: str, question: str, before: str, after: str) -> dict:
    # As probes.jsonl keeps them: judgments by scorer 1 included, to be judged again.
    return {
        "kind": "general",
        "id": qid,
        "question": question,
        "before": before,
        "before_correct": True,
        "after": after,
        "after_correct": True,
    }


def test_a_finished_row_is_judged_again_from_its_answers(tmp_path):
    quality = _quality()
    run = tmp_path / "culinary-fr" / "robust-v2-s0"
    run.mkdir(parents=True)
    rows = [
        _probe("g01", "What is the capital of France?", "Paris.", "The capital of France is Paris."),
        _probe("g28", "What does FAQ stand for?", FAQ_WRONG, "FAQ is short for Freedom of Information."),
        _probe(
            "g21",
            "What does CPU stand for?",
            "CPU stands for Central Processing Unit.",
            "CPU stands for Central Processing Unit.",
        ),
        {
            "kind": "unknown",
            "id": "ZORB/q",
            "term": "ZORB",
            "question": "What is ZORB?",
            "before": "ZORB is a ball.",
            "after": "I don't know ZORB.",
            "after_declined": True,
        },
    ]
    (run / "probes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    metrics = {"after": {"retention": 0.6667, "general_accuracy": 0.6667, "abstention": 1.0}, "train": {"seconds": 1.0}}
    (run / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    (run / "config.yaml").write_text(f"eval: {{max_new_tokens: {quality.ANSWER_TOKENS}}}\n", encoding="utf-8")

    kept = quality.finished(tmp_path)["culinary-fr/robust-v2-s0"]
    # The base never knew FAQ, so it is not counted as lost: 2 of 2 kept, 2 of 3 right.
    assert kept["after"]["retention"] == 1.0 and kept["after"]["general_accuracy"] == 0.6667
    assert kept["after"]["abstention"] == 1.0
    assert kept["scorer"] == quality.SCORER and not quality.stale(kept)
    assert kept["answer_tokens"] == quality.ANSWER_TOKENS

    # A run evaluated at another answer length limit is kept, and marked.
    (run / "config.yaml").write_text("eval: {max_new_tokens: 48}\n", encoding="utf-8")
    kept = quality.finished(tmp_path)["culinary-fr/robust-v2-s0"]
    assert kept["answer_tokens"] == 48 and quality.stale_reasons(kept) == ["length"]


def test_rows_judged_by_an_earlier_scorer_are_marked():
    quality = _quality()
    old = {"train": {"seconds": 500.0, "precision": "fp32"}, "after": {"retention": 0.82, "exact_recall": 1.0}}
    new = {**old, "scorer": quality.SCORER, "answer_tokens": quality.ANSWER_TOKENS}
    assert quality.stale(old) and not quality.stale(new)
    rows = [{"example": "culinary-fr", "recipe": "robust", "seed": s, "metrics": m} for s, m in ((0, old), (1, new))]
    text = quality.table(rows)
    assert "| 0.82 † |" in text and "| 0.82 |" in text and "scorer 1" in text
    assert "scorer 1" not in quality.table(rows[1:])
    old["train"]["trainable_parameters"] = 1
    methods = quality.methods_table([{"method": m, "version": 1, "metrics": old} for m in ["lora", *quality.METHODS]])
    assert "| 0.82 † |" in methods and "\n\n† The row's general answers were" in methods and "scorer 1" in methods


def test_rows_answered_at_another_length_limit_are_marked():
    quality = _quality()
    assert quality.ANSWER_TOKENS != 48  # rows kept from before session 35 answered at 48 tokens
    short = {"train": {"seconds": 500.0}, "after": {"retention": 0.82}, "scorer": quality.SCORER}
    now = {**short, "answer_tokens": quality.ANSWER_TOKENS}
    assert quality.stale_reasons(short) == ["length"] and not quality.stale(now)
    rows = [{"example": "culinary-fr", "recipe": "robust", "seed": s, "metrics": m} for s, m in ((0, short), (1, now))]
    text = quality.table(rows)
    assert "| 0.82 † |" in text and "cut at 48 tokens" in text and "scorer 1" not in text
    assert "48 tokens" not in quality.table(rows[1:])


def test_the_table_names_the_machines_its_rows_trained_on():
    """Each run records what trained it; the header names those, not the machine writing the report."""
    quality = _quality()

    def row(seed: int, device: str | None) -> dict:
        train = {"seconds": 1.0, **({"device": device} if device else {})}
        return {"example": "culinary-fr", "recipe": "robust", "seed": seed, "metrics": {"train": train}}

    assert quality.machines([row(0, "Xeon, 2 cores"), row(1, "Xeon, 2 cores")]) == "Xeon, 2 cores"
    mixed = [row(0, "Xeon, 2 cores"), row(1, "EPYC, 2 cores"), row(2, "Xeon, 2 cores"), row(3, None)]
    assert quality.machines(mixed) == "A: Xeon, 2 cores (2 rows); B: EPYC, 2 cores (1 row); C: not recorded (1 row)"
    assert quality.kept({"train": {"seconds": 1.0, "device": "EPYC, 2 cores"}})["train"]["device"] == "EPYC, 2 cores"


def test_a_finished_row_is_evaluated_again_with_its_training_kept(trained_run, tmp_path):
    """--reevaluate: today's evaluation of a row's weights (here with routing, which the row had off),
    its training figures untouched."""
    import shutil

    import yaml

    quality = _quality()
    row = quality.folder(tmp_path, "culinary-fr", "robust", 0)
    shutil.copytree(trained_run, row)
    before = json.loads((row / "metrics.json").read_text(encoding="utf-8"))
    assert "after_routed" not in before
    config = yaml.safe_load((row / "config.yaml").read_text(encoding="utf-8"))
    config["model"]["route"] = "glossary"
    (row / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")

    quality.reevaluate(tmp_path, "culinary-fr", "robust", 0)  # what --reevaluate does for each row
    after = json.loads((row / "metrics.json").read_text(encoding="utf-8"))
    assert after["route"] == "glossary" and "after_routed" in after
    assert after["train"] == before["train"] and after["after"] == before["after"]


def test_rows_from_several_machines_carry_their_machine_and_pair_only_with_their_own():
    """A plain row is a cost baseline only for a robust row trained on the same machine."""
    quality = _quality()

    def row(recipe: str, seed: int, device: str, seconds: float) -> dict:
        train = {"seconds": seconds, "precision": "bf16", "device": device}
        metrics = {"after": {"exact_recall": 1.0}, "train": train, "recipe_version": 2}
        return {"example": "culinary-fr", "recipe": recipe, "seed": seed, "metrics": metrics}

    rows = [
        row("plain", 0, "EPYC", 60.0),
        row("robust", 0, "EPYC", 300.0),
        row("plain", 1, "Xeon", 50.0),
        row("robust", 1, "EPYC", 400.0),  # its plain row trained elsewhere: no ratio
    ]
    text = quality.table(rows)
    assert "| 300 (bf16, A) | 5.00 |" in text and "| 50 (bf16, B) | — |" in text
    assert "| 400 (bf16, A) | — |" in text
    assert quality.cost_ratios(rows) == [5.0]
    assert quality.machines(rows) == "A: EPYC (3 rows); B: Xeon (1 row)"
    assert "(bf16, A)" not in quality.table(rows[:2])  # one machine: named in the header only
