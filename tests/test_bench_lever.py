"""bench/lever.py pairs each question with itself across the recipe's run and the lever's, and
calls a metric better or worse only when McNemar's exact test says so."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "lever.py"
# Six base-right general questions and their right answers (src/lexitune/evaluate/data/general.jsonl).
GENERAL = {
    "g01": "The capital of France is Paris.",
    "g02": "The capital of Japan is Tokyo.",
    "g03": "The capital of Italy is Rome.",
    "g05": "The capital of the United Kingdom is London.",
    "g06": "The capital of Spain is Madrid.",
    "g07": "Shakespeare wrote it.",
}


def _lever():
    spec = importlib.util.spec_from_file_location("bench_lever", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def _run(folder: Path, kept_general: set[str], recall_right: int, declined: int = 0, seconds: float = 100.0) -> Path:
    """A finished run folder: 8 forward questions (the first `recall_right` answered, the next
    `declined` declined), 2 reverse, 2 sealed, the six general questions (those in `kept_general`
    still right) and 2 invented acronyms (declined)."""
    folder.mkdir(parents=True)
    answers = []
    for i in range(8):
        declines = recall_right <= i < recall_right + declined
        after = "TEC : Techniques" if i < recall_right else "I don't know this term." if declines else "No."
        answers.append({"term": f"T{i}", "style": "fr.q01", "after": after, "after_exact": i < recall_right})
    answers += [{"term": "T0", "style": f"reverse/fr.r0{k}", "after": "C'est T0.", "after_exact": True} for k in (5, 6)]
    answers += [{"term": "T0", "style": f"sealed/fr.s0{k}", "after": "T0 : …", "after_exact": True} for k in (1, 2)]
    probes = [
        {"kind": "general", "id": qid, "before": right, "after": right if qid in kept_general else "I am not sure."}
        for qid, right in GENERAL.items()
    ]
    probes += [
        {"kind": "unknown", "id": f"ZORB/q{k}", "after": "ZORB: I don't know this term, it is not in my glossary."}
        for k in (1, 2)
    ]
    for name, rows in (("answers.jsonl", answers), ("probes.jsonl", probes)):
        (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (folder / "metrics.json").write_text(json.dumps({"train": {"seconds": seconds}}), encoding="utf-8")
    return folder


def test_mcnemar_is_the_exact_two_sided_binomial_test():
    lever = _lever()
    assert lever.mcnemar(0, 0) == 1.0
    assert lever.mcnemar(5, 3) == pytest.approx(0.7265625)
    assert lever.mcnemar(0, 10) == pytest.approx(2 * 0.5**10)


def test_a_lever_that_loses_six_general_questions_is_worse(tmp_path):
    lever = _lever()
    recipe = _run(tmp_path / "a", set(GENERAL), recall_right=8)
    worse = _run(tmp_path / "b", set(), recall_right=8)
    by_metric = {r.metric: r for r in lever.paired([(recipe, worse)])}
    retention = by_metric["retention"]
    assert (retention.n, retention.better, retention.worse) == (6, 0, 6)
    assert retention.recipe == 1.0 and retention.lever == 0.0
    assert retention.p == pytest.approx(2 * 0.5**6) and retention.verdict == "worse"
    # What did not change shows no difference, and the other way round the lever is better.
    assert by_metric["recall"].verdict == "no difference shown"
    assert {r.metric: r.verdict for r in lever.paired([(worse, recipe)])}["retention"] == "better"


def test_one_question_up_and_one_down_shows_no_difference(tmp_path):
    lever = _lever()
    recipe = _run(tmp_path / "a", set(GENERAL) - {"g01"}, recall_right=8)
    other = _run(tmp_path / "b", set(GENERAL) - {"g02"}, recall_right=8)
    retention = {r.metric: r for r in lever.paired([(recipe, other)])}["retention"]
    assert (retention.better, retention.worse, retention.verdict) == (1, 1, "no difference shown")


def test_families_declines_and_questions_the_base_got_wrong(tmp_path):
    lever = _lever()
    run = _run(tmp_path / "a", set(GENERAL), recall_right=5, declined=2)
    probes = [json.loads(line) for line in (run / "probes.jsonl").read_text(encoding="utf-8").splitlines()]
    probes[0]["before"] = "I do not know."  # the base model got g01 wrong: not a retention question
    (run / "probes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in probes), encoding="utf-8")
    got = lever.items(run)
    assert sum(got["recall"].values()) == 5 and len(got["recall"]) == 8
    assert sum(got["not declined"].values()) == 6  # the two declines, and "No." is no decline
    assert len(got["reverse"]) == 2 and len(got["sealed"]) == 2
    assert sorted(got["retention"]) == ["g02", "g03", "g05", "g06", "g07"]
    assert got["abstention"] == {"ZORB/q1": True, "ZORB/q2": True}


def test_the_command_compares_finished_rows_and_keeps_a_lever_to_its_settings(tmp_path, capsys):
    lever = _lever()
    bench, out = tmp_path / "quality", tmp_path / "levers"
    v = lever.quality.version("robust")
    _run(bench / "culinary-fr" / f"robust-v{v}-s2", set(GENERAL), recall_right=8, seconds=700)
    _run(out / "culinary-fr" / f"robust+drop-v{v}-s2", set(), recall_right=8, seconds=710)
    md = tmp_path / "drop.md"
    argv = ["drop", "--rows", "culinary-fr/2", "--bench", str(bench), "--out", str(out), "--md", str(md)]
    assert lever.main(argv) == 0
    text = capsys.readouterr().out
    assert "| retention | 6 | 1.000 | 0.000 | 0 | 6 | 0.0312 | worse | 0 |" in text
    assert "culinary-fr/2 (710 s against 700 s)" in text
    assert md.read_text(encoding="utf-8") == lever.HEADER + "\n" + text
    # Run again, with a note: the lever's section is replaced, not added twice.
    assert lever.main([*argv, "--note", "Dropout on the LoRA input."]) == 0
    written = md.read_text(encoding="utf-8")
    assert written.count("## `drop`") == 1 and "Dropout on the LoRA input." in written
    # A name is one set of settings: the same name with other settings is refused, not reused.
    (out / "culinary-fr" / f"robust+drop-v{v}-s2.settings.json").write_text('["train.lora.dropout=0.1"]')
    with pytest.raises(SystemExit):
        lever.main([*argv, "--set", "train.lora.dropout=0.2"])
    assert "other settings" in capsys.readouterr().err
    # Compared again without --set, its kept settings are the ones shown.
    assert lever.main(argv) == 0
    assert "Settings: `train.lora.dropout=0.1`." in capsys.readouterr().out
    # A lever no one ran, without settings: refused, so a typo never trains the recipe again.
    with pytest.raises(SystemExit):
        lever.main(["drop2", "--rows", "culinary-fr/2", "--bench", str(bench), "--out", str(out)])
    assert "give the lever's settings with --set" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        lever.main(["drop", "--rows", "nowhere/2"])
    with pytest.raises(SystemExit):
        lever.main(["../drop", "--rows", "culinary-fr/2"])
