"""A comparison page across runs or a sweep's trials: metric vs hyper-parameter plots, learning
curves side by side, and a table sortable by any column.

    lexitune report runs/culinary-sweep --out compare.html
    lexitune report runs/a runs/b runs/c --out compare.html
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import yaml

from lexitune.errors import LexituneError
from lexitune.report.page import chart_box, num, page
from lexitune.report.run_report import read_jsonl
from lexitune.report.svg import line_chart, scatter
from lexitune.rundir import RunDir, read_json, write_text
from lexitune.track.tracker import flatten

IGNORED = {
    "name",
    "glossary.path",
    "generate.conversations",
    "generate.test_conversations",
    "tracking.uri",
    "tracking.experiment",
}


def find_runs(paths: list[Path]) -> list[RunDir]:
    """Run folders among `paths`: each path is a run, or a folder of runs (a sweep)."""
    runs = []
    for path in paths:
        if (path / "config.yaml").exists():
            runs.append(RunDir(path))
        elif path.is_dir():
            runs += [RunDir(p) for p in sorted(path.iterdir()) if (p / "config.yaml").exists()]
        else:
            raise LexituneError(f"{path}: not a run folder or a folder of runs")
    if not runs:
        raise LexituneError(f"{', '.join(map(str, paths))}: no run folders found")
    return runs


def _summary(run: RunDir) -> dict:
    config = flatten(yaml.safe_load(run.config.read_text(encoding="utf-8")) or {})
    config = {k: v for k, v in config.items() if k not in IGNORED and not k.startswith("sweep.")}
    metrics = read_json(run.metrics) if run.metrics.exists() else {}
    trial = read_json(run.trial) if run.trial.exists() else {}
    train = metrics.get("train") or (read_json(run.train_result) if run.train_result.exists() else {})
    state = trial.get("state") or ("complete" if metrics else "incomplete")
    return {
        "name": run.root.name,
        "run": run,
        "config": config,
        "after": metrics.get("after") or {},
        "before": metrics.get("before") or {},
        "train": train or {},
        "state": state.lower(),
        "curve": read_jsonl(run.curve),
        "has_report": run.report.exists(),
    }


def varied_settings(rows: list[dict]) -> list[str]:
    """The settings that differ between the runs: the hyper-parameters being compared."""
    keys = sorted({k for r in rows for k in r["config"]})
    return [k for k in keys if len({repr(r["config"].get(k)) for r in rows}) > 1]


def rank(rows: list[dict]) -> list[dict]:
    """Best first: held-out exact recall, ties broken by the shorter training."""

    def key(r):
        recall = r["after"].get("exact_recall")
        return (recall is None, -(recall or 0), r["train"].get("seconds") or float("inf"))

    return sorted(rows, key=key)


def _plots(rows: list[dict], varied: list[str]) -> str:
    boxes = []
    done = [r for r in rows if r["after"].get("exact_recall") is not None]
    for key in varied:
        pts = [
            (float(r["config"][key]), r["after"]["exact_recall"], r["name"])
            for r in done
            if isinstance(r["config"].get(key), (int, float)) and not isinstance(r["config"].get(key), bool)
        ]
        if pts:
            boxes.append(
                chart_box(
                    f"exact recall vs {key}", scatter(pts, x_label=key, y_label="exact recall", y_range=(0, 1.05))
                )
            )
    curves = [
        (r["name"], [p["step"] for p in r["curve"]], [p["exact_recall"] for p in r["curve"]])
        for r in rows
        if r["curve"]
    ]
    if curves:
        boxes.append(
            chart_box(
                "Learning curves (held-out sample)",
                line_chart(
                    curves[:8], x_label="optimiser step", y_label="exact recall", y_range=(0, 1.05), markers=True
                ),
            )
        )
    timed = [(r["train"]["seconds"], r["after"]["exact_recall"], r["name"]) for r in done if r["train"].get("seconds")]
    if timed:
        boxes.append(
            chart_box(
                "exact recall vs training time",
                scatter(timed, x_label="training seconds", y_label="exact recall", y_range=(0, 1.05)),
            )
        )
    return f'<div class="charts">{"".join(boxes)}</div>'


def _table(rows: list[dict], varied: list[str], out_dir: Path) -> str:
    head = (
        ["#", "run", "state"]
        + varied
        + [
            "exact recall",
            "fuzzy recall",
            "similarity",
            "before recall",
            "train s",
            "steps",
            "tokens/s",
            "best curve recall",
        ]
    )
    body = []
    for i, r in enumerate(rows, 1):
        name = escape(r["name"])
        if r["has_report"]:
            link = Path(r["run"].report).resolve()
            try:
                link = link.relative_to(out_dir.resolve())
            except ValueError:
                pass
            name = f'<a href="{escape(link.as_posix())}">{name}</a>'
        cells = [num(i), f"<td>{name}</td>", f"<td>{escape(r['state'])}</td>"]
        cells += [
            num(v) if isinstance(v := r["config"].get(k), (int, float)) else f"<td>{escape(str(v))}</td>"
            for k in varied
        ]
        best_curve = max((p["exact_recall"] for p in r["curve"]), default=None)
        cells += [
            num(r["after"].get("exact_recall")),
            num(r["after"].get("fuzzy_recall")),
            num(r["after"].get("embedding_similarity")),
            num(r["before"].get("exact_recall")),
            num(r["train"].get("seconds")),
            num(r["train"].get("steps")),
            num(r["train"].get("tokens_per_second")),
            num(best_curve),
        ]
        body.append(f'<tr class="{"best" if i == 1 else ""}">{"".join(cells)}</tr>')
    return (
        f'<table class="sortable" id="runs"><thead><tr>{"".join(f"<th>{escape(h)}</th>" for h in head)}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def build_comparison(paths: list[Path], out: Path) -> str:
    rows = rank([_summary(r) for r in find_runs(paths)])
    varied = varied_settings(rows)
    title = "lexitune: " + ", ".join(p.name for p in paths)
    body = [
        f"<h1>{escape(title)}</h1><div class='sub'>{len(rows)} runs · ranked by held-out exact recall, "
        "ties broken by training time · click a column to sort</div>",
        "<h2>Runs</h2>",
        _table(rows, varied, out.parent),
        "<h2>Metrics vs settings</h2>",
        _plots(rows, varied),
        "<h2>Settings that differ</h2>",
        "<p>" + (", ".join(f"<code>{escape(k)}</code>" for k in varied) or "none: the runs share one config") + "</p>",
    ]
    return page(title, "".join(body))


def write_comparison(paths: list[Path], out: Path) -> Path:
    write_text(out, build_comparison(paths, out))
    return out
