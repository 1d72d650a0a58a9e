"""Does a lever help the recipe? Paired, question by question, over the bench's own rows.

    python bench/lever.py drop10 --set train.lora.dropout=0.1 --rows culinary-fr/2 uk-public-sector/0
    python bench/lever.py drop10 --rows culinary-fr/2 uk-public-sector/0 --md bench/LEVERS.md  # finished: compare

A lever is a set of `--set` overrides on the recipe (robust unless --recipe). Each row (EXAMPLE/SEED)
is run like the quality bench's own row (`quality.run_row`: the same glossary, routing and guard),
in its own folder `<out>/<example>/<recipe>+<name>-v<version>-s<seed>`, resumed if unfinished and
never run again once finished; its settings are kept beside it (`….settings.json`), so a name
stays one set of settings and an unfinished row resumes without them. The recipe's row is the
bench's (`runs/quality/…`, run there first if missing).

Why paired: retention is judged on ~26 general questions a seed, so one seed's figure moves by
about 0.07 from which questions happen to flip, and any change to the data reshuffles them. A
difference of one or two questions on one seed says nothing. Here each question is paired with
itself across the two runs of the same seed, and only the questions that changed count: `better`
(the lever right, the recipe wrong) against `worse`. McNemar's exact test (a two-sided binomial
test on those discordant questions, pooled over the rows) says whether the lever's side wins more
often than chance would. A metric is "better" or "worse" only at p < 0.05.

Metrics, per question: held-out recall, reverse and sealed recall (the answer judged as in
metrics.json), not declining a glossary question (1 − false abstention), retention (general
questions the base model got right, judged again by the current scorer) and abstention (invented
acronyms declined). Both runs of a seed ask the same questions; any question only one of them asked
is left out and counted in the table's last column.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scipy.stats import binomtest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import quality  # noqa: E402

from lexitune.evaluate.probes.decline import is_decline  # noqa: E402
from lexitune.evaluate.probes.general import general_question  # noqa: E402
from lexitune.generate.split import family  # noqa: E402
from lexitune.rundir import read_jsonl_log  # noqa: E402

ALPHA = 0.05
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# The printed table's rows, in order; "not declined" is 1 - false abstention, question by question.
METRICS = ["recall", "reverse", "sealed", "not declined", "retention", "abstention"]


def items(run: Path) -> dict[str, dict[str, bool]]:
    """{metric: {question key: right}} for one finished run folder."""
    out: dict[str, dict[str, bool]] = {m: {} for m in METRICS}
    for row in read_jsonl_log(run / "answers.jsonl"):
        key = f"{row['term']}|{row['style']}"
        name = {"forward": "recall", "reverse": "reverse", "sealed": "sealed"}[family(row["style"])]
        out[name][key] = bool(row["after_exact"])
        if name == "recall":
            out["not declined"][key] = not is_decline(row["after"])
    for row in read_jsonl_log(run / "probes.jsonl"):
        if row["kind"] == "general":
            # Judged again: a row run under an earlier scorer is compared on today's judgments.
            question = general_question(row["id"])
            if "before" in row and question.is_right(row["before"]):
                out["retention"][row["id"]] = question.is_right(row["after"])
        elif row["kind"] == "unknown":
            out["abstention"][row["id"]] = is_decline(row["after"])
    return out


@dataclass
class Paired:
    metric: str
    n: int  # questions both runs asked, over every row
    recipe: float  # share right, recipe
    lever: float  # share right, lever
    better: int  # right with the lever, wrong with the recipe
    worse: int  # the other way
    p: float  # McNemar's exact two-sided p on better vs worse
    unpaired: int  # questions only one run asked

    @property
    def verdict(self) -> str:
        if self.p < ALPHA:
            return "better" if self.better > self.worse else "worse"
        return "no difference shown"


def mcnemar(better: int, worse: int) -> float:
    """Exact two-sided p that `better` and `worse` discordant pairs came from a fair coin."""
    n = better + worse
    return 1.0 if n == 0 else float(binomtest(better, n, 0.5).pvalue)


def paired(pairs: Iterable[tuple[Path, Path]]) -> list[Paired]:
    """One Paired a metric, pooled over (recipe run, lever run) pairs of the same seed."""
    pooled = {m: [0, 0, 0, 0, 0, 0] for m in METRICS}  # n, recipe right, lever right, better, worse, unpaired
    for recipe_run, lever_run in pairs:
        a, b = items(recipe_run), items(lever_run)
        for m in METRICS:
            both = a[m].keys() & b[m].keys()
            counts = pooled[m]
            counts[0] += len(both)
            counts[1] += sum(a[m][k] for k in both)
            counts[2] += sum(b[m][k] for k in both)
            counts[3] += sum(b[m][k] and not a[m][k] for k in both)
            counts[4] += sum(a[m][k] and not b[m][k] for k in both)
            counts[5] += len(a[m].keys() ^ b[m].keys())
    out = []
    for m, (n, ra, rb, better, worse, unpaired) in pooled.items():
        if n:
            out.append(Paired(m, n, ra / n, rb / n, better, worse, mcnemar(better, worse), unpaired))
    return out


def seconds(run: Path) -> float | None:
    return json.loads((run / "metrics.json").read_text(encoding="utf-8"))["train"].get("seconds")


def _row_label(label: str, recipe: Path, lever: Path) -> str:
    """A row's name with both runs' training seconds, each read once."""
    recipe_s, lever_s = seconds(recipe), seconds(lever)
    return f"{label} ({lever_s:.0f} s against {recipe_s:.0f} s)" if recipe_s and lever_s else label


def report(name: str, settings: list[str], pairs: list[tuple[str, Path, Path]], note: str = "") -> str:
    """The markdown a lever's comparison prints (and --md writes)."""
    lines = [
        f"## `{name}`",
        "",
        *([f"Settings: {' '.join(f'`{s}`' for s in settings)}.", ""] if settings else []),
        *([note, ""] if note else []),
        *([] if settings or note else ["Settings: as its run folders say (their config.yaml).", ""]),
        "Rows: " + ", ".join(_row_label(label, recipe, lever) for label, recipe, lever in pairs),
        "",
        "| metric | questions | recipe | lever | lever better | lever worse | p (McNemar) | verdict | unpaired |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in paired((recipe, lever) for _, recipe, lever in pairs):
        lines.append(
            f"| {r.metric} | {r.n} | {r.recipe:.3f} | {r.lever:.3f} | {r.better} | {r.worse} | {r.p:.3g} | "
            f"{r.verdict} | {r.unpaired} |"
        )
    return "\n".join(lines) + "\n"


HEADER = """# Levers against the recipe

Written by `python bench/lever.py NAME … --md bench/LEVERS.md`, one section a lever (run again, a
lever's section is replaced); do not edit by hand. Each compares a lever's runs with the quality
bench's rows of the same seeds, question by question (McNemar's exact test on the questions that
changed, pooled over the rows): "better" or "worse" only at p < 0.05. What each lever is, and why
it was tried: [docs/experiments.md](../docs/experiments.md). Training seconds are each run's own:
the machine's speed drifts between sessions, so compare them only where both ran in one session.
"""


def write_section(path: Path, name: str, text: str) -> None:
    """Put a lever's section into the markdown file at `path`, replacing its earlier one."""
    sections: dict[str, str] = {}
    if path.exists():
        for chunk in path.read_text(encoding="utf-8").split("\n## ")[1:]:
            sections[chunk.split("`")[1]] = "## " + chunk.rstrip("\n") + "\n"
    sections[name] = text
    path.write_text(HEADER + "".join("\n" + sections[k] for k in sections), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the lever's name: its run folders are <recipe>+<name>-v…")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="the lever's overrides (KEY=VALUE)")
    parser.add_argument("--rows", nargs="+", required=True, help="EXAMPLE/SEED rows, e.g. culinary-fr/2")
    parser.add_argument("--recipe", default="robust")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "levers", help="where the lever's rows run")
    parser.add_argument("--bench", type=Path, default=ROOT / "runs" / "quality", help="where the recipe's rows are")
    parser.add_argument(
        "--md", type=Path, help="also write the comparison into this markdown file, as the lever's section"
    )
    parser.add_argument("--note", default="", help="a line under the lever's heading: what it is, where it was run")
    args = parser.parse_args(argv)
    if not NAME.fullmatch(args.name):
        parser.error(f"lever name {args.name!r}: letters, digits, '.', '_' and '-' only (it names folders)")
    rows = []  # (row, recipe run, lever run, lever settings file), all checked before anything runs
    sets = args.sets
    for row in args.rows:
        example, _, seed = row.partition("/")
        if example not in quality.EXAMPLES or not seed.isdigit():
            parser.error(f"--rows: {row!r} is not EXAMPLE/SEED with EXAMPLE one of {', '.join(quality.EXAMPLES)}")
        recipe_run = quality.folder(args.bench, example, args.recipe, int(seed))
        lever_run = quality.folder(args.out, example, f"{args.recipe}+{args.name}", int(seed))
        settings = lever_run.parent / f"{lever_run.name}.settings.json"
        saved = json.loads(settings.read_text(encoding="utf-8")) if settings.exists() else None
        if saved is not None and sets and saved != sets:  # --set, or an earlier row's kept settings
            parser.error(f"{lever_run} was run with other settings ({settings}); give this lever another name")
        sets = sets or saved or []
        if not sets and not (lever_run / "metrics.json").exists():
            parser.error(f"{lever_run} is not finished: give the lever's settings with --set")
        rows.append((row, recipe_run, lever_run, settings))
    pairs = []
    for row, recipe_run, lever_run, settings in rows:
        example, _, seed = row.partition("/")
        if not (recipe_run / "metrics.json").exists():
            quality.run_row(args.bench, example, args.recipe, int(seed), [])
        if not lever_run.exists():
            settings.parent.mkdir(parents=True, exist_ok=True)
            settings.write_text(json.dumps(sets), encoding="utf-8")
        # A no-op once the lever's row is finished.
        quality.run_row(args.out, example, args.recipe, int(seed), sets, variant=args.name)
        for run in (recipe_run, lever_run):
            if not (run / "metrics.json").exists():
                print(f"{run} did not finish; see {run.parent / (run.name + '.log')}", file=sys.stderr)
                return 1
        pairs.append((row, recipe_run, lever_run))
    text = report(args.name, sets, pairs, args.note)
    print(text, end="")
    if args.md:
        write_section(args.md, args.name, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
