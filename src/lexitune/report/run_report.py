"""report.html for one run: before/after metrics, curves, every answer, config and timing.

Written at the end of `lexitune run` and `lexitune eval`; rebuilt from the run folder's files alone.

    lexitune report runs/culinary      # (re)writes runs/culinary/report.html
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from lexitune.report.page import chart_box, num, page
from lexitune.report.svg import histogram, line_chart
from lexitune.rundir import RunDir, read_json, read_jsonl_log, write_text

METRICS = [
    ("exact_recall", "exact recall"),
    ("fuzzy_recall", "fuzzy recall"),
    ("embedding_similarity", "embedding similarity"),
    ("judge_accuracy", "judge accuracy"),
    ("retention", "retention"),
    ("abstention", "abstention"),
    ("false_abstention", "false abstention"),
    ("senses", "all senses given"),
    ("sense_context", "sense picked by context"),
]


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a run's JSONL file; a last line cut short by a crash is skipped."""
    return read_jsonl_log(path)


def _cards(metrics: dict) -> str:
    before, after = metrics.get("before") or {}, metrics.get("after") or {}
    cards = []
    for key, label in METRICS:
        a, b = after.get(key), before.get(key)
        if a is None and b is None:
            continue
        delta = ""
        if a is not None and b is not None:
            cls = "up" if a > b else "down" if a < b else ""
            delta = f'<div class="d {cls}">before {b:.2f} → {a - b:+.2f}</div>'
        value = "—" if a is None else f"{a:.2f}"
        cards.append(
            f'<div class="card"><div class="k">{label} (after)</div><div class="v" data-metric="{key}">{value}</div>{delta}</div>'
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _timing(metrics: dict, train: dict) -> str:
    rows = []
    if train:
        rows += [
            ("training", f"{train.get('seconds', 0):.1f} s, {train.get('steps')} steps"),
            ("speed", f"{train.get('tokens_per_second', 0):.0f} tokens/s ({train.get('tokens')} tokens)"),
            ("precision", f"{train.get('precision')} — {train.get('precision_reason', '')}"),
            *([("device", train["device"])] if train.get("device") else []),
            ("final loss", f"{train.get('final_loss')}"),
        ]
        curve = train.get("curve")
        if curve and curve.get("best_exact_recall") is not None:
            kept = "best weights kept" if curve.get("restored_best") else "last weights are the best"
            rows.append(
                (
                    "learning curve",
                    f"best recall {curve['best_exact_recall']:.2f} at step {curve['best_step']} ({kept})",
                )
            )
    ev = metrics.get("eval") or {}
    if ev:
        rows.append(("evaluation", f"{ev.get('seconds')} s ({ev.get('questions_per_second')} questions/s)"))
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _charts(run: RunDir, answers: list[dict]) -> str:
    boxes = []
    log = read_jsonl(run.train_log)
    if log:
        steps = [r["step"] for r in log]
        boxes.append(
            chart_box(
                "Training loss",
                line_chart(
                    [("loss", steps, [r["loss"] for r in log])],
                    x_label="optimiser step",
                    y_label="loss (answer tokens)",
                ),
            )
        )
    curve = read_jsonl(run.curve)
    if curve:
        steps = [p["step"] for p in curve]
        boxes.append(
            chart_box(
                "Recall on held-out sample while training",
                line_chart(
                    [
                        ("exact recall", steps, [p["exact_recall"] for p in curve]),
                        ("fuzzy recall", steps, [p["fuzzy_recall"] for p in curve]),
                    ],
                    x_label="optimiser step",
                    y_label="recall",
                    y_range=(0, 1.05),
                    markers=True,
                ),
            )
        )
    else:
        boxes.append(
            '<div class="chart-box note">No learning curve: set <code>eval.curve_every</code> to measure recall while training.</div>'
        )
    groups = [
        (side, [r[f"{side}_similarity"] for r in answers if r.get(f"{side}_similarity") is not None])
        for side in ("before", "after")
    ]
    groups = [g for g in groups if g[1]]
    if groups:
        boxes.append(
            chart_box("Similarity of answers to the definition", histogram(groups, x_label="cosine similarity"))
        )
    return f'<div class="charts">{"".join(boxes)}</div>'


def _answer_cell(text: str | None, right: bool | None) -> str:
    if text is None:
        return '<td class="muted">—</td>'
    cls = "right" if right else "wrong"
    return f'<td class="{cls}">{escape(text)}</td>'


def _answers_table(answers: list[dict]) -> str:
    has_before = any("before" in r for r in answers)
    head = ["term", "style", "question", "expected"] + (["before", "exact"] if has_before else [])
    head += ["after", "exact", "fuzzy", "similarity"]
    rows = []
    for r in answers:
        cls = "answer" + ("" if r.get("after_exact") else " after-wrong")
        cells = [
            f"<td>{escape(r['term'])}</td>",
            f"<td>{escape(r.get('style', ''))}</td>",
            f"<td>{escape(r['question'])}</td>",
            f"<td>{escape(r['expected'])}</td>",
        ]
        if has_before:
            cells += [_answer_cell(r.get("before"), r.get("before_exact")), num(r.get("before_exact"))]
        cells += [
            _answer_cell(r.get("after"), r.get("after_exact")),
            num(r.get("after_exact")),
            num(r.get("after_fuzzy")),
            num(r.get("after_similarity")),
        ]
        rows.append(f'<tr class="{cls}">{"".join(cells)}</tr>')
    wrong = sum(1 for r in answers if not r.get("after_exact"))
    return (
        f'<label class="filter"><input type="checkbox" id="only-wrong"> show only the {wrong} answers without the definition</label>'
        f'<table class="sortable" id="answers"><thead><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def build_run_report(run: RunDir) -> str:
    metrics = read_json(run.metrics) if run.metrics.exists() else {}
    train = read_json(run.train_result) if run.train_result.exists() else (metrics.get("train") or {})
    answers = read_jsonl(run.answers)
    config = run.config.read_text(encoding="utf-8") if run.config.exists() else ""
    name = run.root.name
    counts = f"{metrics['terms']} terms, {metrics['test_questions']} held-out questions" if "terms" in metrics else None
    sub = " · ".join(str(x) for x in [metrics.get("model"), metrics.get("method"), counts] if x)
    body = [
        f"<h1>lexitune run: {escape(name)}</h1><div class='sub'>{escape(sub)}<br>{escape(str(run.root.resolve()))}</div>"
    ]
    if metrics:
        body += ["<h2>Before and after training</h2>", _cards(metrics)]
    body += ["<h2>Curves</h2>", _charts(run, answers), "<h2>Timing</h2>", _timing(metrics, train)]
    if answers:
        body += [
            f"<h2>Every held-out question ({len(answers)})</h2>",
            "<p class='note'>Red: the answer does not contain the expected definition. Click a column to sort.</p>",
            _answers_table(answers),
        ]
    body += ["<h2>Configuration</h2>", f"<pre>{escape(config)}</pre>"]
    return page(f"lexitune · {name}", "".join(body))


def write_run_report(run: RunDir) -> Path:
    write_text(run.report, build_run_report(run))
    return run.report
