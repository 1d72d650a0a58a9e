"""report.html of one run, built from a run folder's files and opened in headless Chromium."""

from __future__ import annotations

import json
import re

import yaml

from lexitune.config import Config
from lexitune.report import write_run_report
from lexitune.report.svg import nice_ticks
from lexitune.rundir import RunDir, write_json
from tests.conftest import pixel_spread

ANSWERS = [
    (
        "TEC",
        "Que veut dire TEC ?",
        "Techniques Élémentaires et Culinaires",
        "Je ne sais pas.",
        "TEC : Techniques Élémentaires et Culinaires.",
        True,
    ),
    (
        "PER",
        "PER, c'est quoi ?",
        "Purée et Épice de la Réussite",
        "Plan d'épargne retraite.",
        "PER veut dire Purée et Sauce.",
        False,
    ),
    (
        "FUN",
        "Et FUN ?",
        "Fusion Universelle de la Nourriture",
        "Amusant.",
        "FUN : Fusion Universelle de la Nourriture.",
        True,
    ),
]


def make_run(root) -> RunDir:
    """A finished run's files, written by hand: 3 answers (one wrong), a loss log, a learning curve."""
    run = RunDir(root)
    run.root.mkdir(parents=True)
    run.config.write_text(yaml.safe_dump(Config(name="demo").model_dump(mode="json")), encoding="utf-8")
    rows = []
    for i, (term, q, expected, before, after, ok) in enumerate(ANSWERS):
        rows.append(
            {
                "term": term,
                "style": f"fr.q{12 + i}",
                "question": q,
                "expected": expected,
                "before": before,
                "before_exact": False,
                "before_fuzzy": False,
                "before_similarity": 0.2 + 0.1 * i,
                "after": after,
                "after_exact": ok,
                "after_fuzzy": ok,
                "after_similarity": 0.9 - 0.2 * (not ok),
            }
        )
    run.answers.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    train = {
        "seconds": 41.5,
        "steps": 12,
        "tokens": 9000,
        "tokens_per_second": 216.9,
        "final_loss": 0.0311,
        "precision": "fp32",
        "precision_reason": "test",
        "curve": {"best_exact_recall": 0.6667, "best_step": 12, "points": 3, "restored_best": False},
    }
    write_json(run.train_result, train)
    write_json(
        run.metrics,
        {
            "model": "tiny",
            "method": "lora",
            "terms": 3,
            "test_questions": 3,
            "before": {"exact_recall": 0.0, "fuzzy_recall": 0.0, "embedding_similarity": 0.3, "judge_accuracy": None},
            "after": {
                "exact_recall": 0.6667,
                "fuzzy_recall": 0.6667,
                "embedding_similarity": 0.7667,
                "judge_accuracy": None,
            },
            "train": train,
            "eval": {"seconds": 1.2, "questions_per_second": 2.5},
        },
    )
    run.train_log.write_text("".join(json.dumps({"step": s, "loss": 3.0 / s, "lr": 1e-3}) + "\n" for s in range(1, 13)))
    run.curve.write_text(
        "".join(
            json.dumps({"step": s, "exact_recall": r, "fuzzy_recall": r}) + "\n"
            for s, r in [(4, 0.0), (8, 0.3333), (12, 0.6667)]
        )
    )
    return run


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0, 1) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(3, 97)[0] >= 3 and nice_ticks(3, 97)[-1] <= 97


def test_run_report_is_self_contained_and_renders(tmp_path, browser):
    run = make_run(tmp_path / "run")
    html = write_run_report(run).read_text(encoding="utf-8")
    # No network: no external scripts, styles, images or fonts (the SVG namespace is only a name).
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "report must not load anything from the network"
    assert html.count("<svg") == 3, "loss curve, recall curve and similarity histogram"
    page = browser(run.report)
    assert page.console == [], f"console errors: {page.console}"
    assert 'data-metric="exact_recall">0.67<' in page.dom
    assert page.dom.count('class="answer after-wrong"') == 1, "the one wrong answer is marked"
    assert "PER veut dire Purée et Sauce." in page.dom and "41.5 s, 12 steps" in page.dom
    assert pixel_spread(page.screenshot) > 10, "the screenshot is blank"


def test_browser_harness_sees_console_errors(tmp_path, browser):
    """The check above can fail: a page that throws is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>notDefined();</script></body></html>")
    assert any("notDefined" in line for line in browser(page).console)
