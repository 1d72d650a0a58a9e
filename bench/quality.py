"""The quality table: examples x seeds x {plain, robust, robust + routing}, written to bench/QUALITY.md.

    python bench/quality.py                          # every row; finished rows are reused
    python bench/quality.py --only culinary-fr/robust/0 culinary-fr/plain/0
    python bench/quality.py --report                 # only rewrite the files from finished rows
    python bench/quality.py --methods                # the training-method rows (DoRA, full, DPO, ORPO)
    python bench/quality.py --reevaluate culinary-fr/robust/0   # evaluate a finished row again, no training

Each row is one `lexitune run` of an example with the recipe and seed, in its own folder under
--out (default runs/quality/<example>/<recipe>-v<version>-s<seed>), in its own process. A row whose
folder holds metrics.json is finished and never run again, so the bench can be stopped and
restarted and part of it run at a time. The recipe's version is part of the row's name: a new
version of a recipe runs its rows anew, and the tables and targets use only the current version's
rows; an earlier version's rows stay in bench/quality.json and are summed up apart. Robust rows
are run with routing and the guard on: their metrics.json holds the weights-only figures
(`after`, what merged/GGUF/Ollama exports answer) and the routed ones (`after_routed`, chat and
serve) side by side.

Every finished row's figures are also kept in the committed bench/quality.json, so a row
measured on one machine stays in the table after its run folder is gone; a row finished again
under --out replaces the kept one.

Writes bench/QUALITY.md (the table, the targets, the cost ratio), the README's results table
(between its quality markers), bench/quality.json and src/lexitune/recipes/measured.json
(`lexitune recipes`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from lexitune.config import Config, load_config  # noqa: E402
from lexitune.evaluate.probes.general import SCORER  # noqa: E402
from lexitune.evaluate.probes.run import probe_results  # noqa: E402
from lexitune.glossary import load_from_config  # noqa: E402
from lexitune.recipes import load_recipe  # noqa: E402

# example -> (first N terms or None, seeds)
EXAMPLES: dict[str, tuple[int | None, list[int]]] = {
    "culinary-fr": (None, [0, 1, 2]),
    "uk-public-sector": (20, [0, 1, 2]),
    "invented-en": (None, [0]),
    "senses-en": (None, [0]),
}
RECIPES = ["plain", "robust"]
ROUTED = ["model.route=glossary", "model.guard_declines=true"]
# (metric, target, side): "min" targets are floors, "max" ceilings; routed targets on after_routed.
TARGETS = [
    ("exact_recall", 0.95, "min", "after"),
    ("retention", 0.92, "min", "after"),
    ("abstention", 0.85, "min", "after"),
    ("false_abstention", 0.03, "max", "after"),
    ("reverse_recall", 0.90, "min", "after"),
    ("exact_recall", 0.98, "min", "after_routed"),
    ("retention", 0.97, "min", "after_routed"),
]
# The methods issue's rows: the robust recipe's data on the culinary example, seed 0, each method
# (and preference tuning after LoRA) in its own run; the LoRA row is the robust row itself.
METHOD_EXAMPLE, METHOD_SEED = "culinary-fr", 0
METHODS: dict[str, list[str]] = {
    "dora": ["train.method=dora"],
    # A learning rate for all the weights, not LoRA's 2e-3 (which wrecks a fully tuned 135M model).
    # No adapter to switch off: routing cannot apply (the guard still does).
    "full": ["train.method=full", "train.learning_rate=5e-5", "model.route=always"],
    # LoRA's own settings on the 4-bit base. The QLoRA paper's 2e-4 learned the answers' form but
    # not the definitions in 3 epochs (recall 0.02); 2e-3 had "diverged" only through bitsandbytes'
    # CPU repacking (train/quantized.py), since mended.
    "qlora": ["train.method=qlora"],
    "lora+dpo": ["train.preference=dpo"],
    "lora+orpo": ["train.preference=orpo"],
}
# The answer length limit evaluation uses now; a row answered at another one is not comparable
# (rows before session 35 answered at 48 tokens, which cut calculations explained step by step).
ANSWER_TOKENS = Config().eval.max_new_tokens
SLACK = 0.03  # the worst seed may miss a target by this much
COST_LIMIT = 2.5  # robust training seconds / plain training seconds
QUALITY_MD = ROOT / "bench" / "QUALITY.md"
QUALITY_JSON = ROOT / "bench" / "quality.json"
MEASURED_JSON = ROOT / "src" / "lexitune" / "recipes" / "measured.json"
README = ROOT / "README.md"


def version(recipe: str) -> int:
    """The shipped recipe's current version ("robust+dora" is the robust recipe's)."""
    return load_recipe(recipe.split("+")[0]).version


def row_key(example: str, recipe: str, seed: int, v: int | None = None) -> str:
    """A row's name: its folder under --out, and its key in bench/quality.json."""
    return f"{example}/{recipe}-v{version(recipe) if v is None else v}-s{seed}"


def parse_key(key: str) -> tuple[str, str, int, int]:
    """(example, recipe, version, seed) of a row_key."""
    example, name = key.split("/")
    rest, seed = name.rsplit("-s", 1)
    recipe, v = rest.rsplit("-v", 1)
    return example, recipe, int(v), int(seed)


def folder(out: Path, example: str, recipe: str, seed: int) -> Path:
    return out / row_key(example, recipe, seed)


def first_terms(config_path: Path, terms: int, folder: Path) -> list[str]:
    """--set overrides pointing glossary.path at a copy (in `folder`) of the config's first N terms."""
    config = load_config(config_path)
    rows = [
        {"term": t.term, "definition": t.definition, "aliases": t.aliases}
        for t in load_from_config(config.glossary)[:terms]
    ]
    path = folder / f"glossary-first-{terms}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return [f"glossary.path={path}", "glossary.duplicates=first"]


def run_row(out: Path, example: str, recipe: str, seed: int, extra: list[str], variant: str = "") -> None:
    target = folder(out, example, recipe + (f"+{variant}" if variant else ""), seed)
    if (target / "metrics.json").exists():
        return
    if target.exists():  # an unfinished row: resume it where its last checkpoint left it
        resume = ["--resume"]
    else:
        resume = []
    terms, _ = EXAMPLES[example]
    sets = [f"recipe={recipe}", f"seed={seed}", "tracking=none", "train.save_every=20"]
    if terms:
        sets += first_terms(ROOT / "examples" / example / "lexitune.yaml", terms, out / example)
    if recipe != "plain":
        sets += ROUTED
    sets += extra  # last: a row's own settings win
    command = [sys.executable, "-m", "lexitune.cli", "run", str(ROOT / "examples" / example / "lexitune.yaml")]
    command += ["--out", str(target), *resume]
    for s in sets:
        command += ["--set", s]
    print(f"[{time.strftime('%H:%M:%S')}] {example} {recipe} {variant} seed {seed}", flush=True)
    _lexitune(command, target)


def reevaluate(out: Path, example: str, recipe: str, seed: int) -> None:
    """Evaluate a finished row again with the current code (`lexitune eval`): the same weights and
    training figures, the answers and metrics of today's evaluation (a change to routing or the
    answering code, not to training)."""
    target = folder(out, example, recipe, seed)
    if not (target / "metrics.json").exists():
        print(f"  {target}: not finished, nothing to evaluate again", flush=True)
        return
    print(f"[{time.strftime('%H:%M:%S')}] {example} {recipe} seed {seed}: evaluating again", flush=True)
    _lexitune([sys.executable, "-m", "lexitune.cli", "eval", str(target), "--set", "tracking=none"], target)


def _lexitune(command: list[str], target: Path) -> None:
    """Run a lexitune command for the row in `target`, its output appended to the row's log beside
    the folder; a failure is printed, and the bench goes on with the next row."""
    log = target.parent / f"{target.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as f:
        code = subprocess.call(
            command, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}
        )
    if code != 0:
        print(f"  failed (exit {code}); see {log}", flush=True)


# What a row keeps of its metrics.json in bench/quality.json: the figures the tables show.
KEPT = [
    "exact_recall",
    "reverse_recall",
    "sealed_recall",
    "retention",
    "abstention",
    "false_abstention",
    "general_accuracy",
]


def kept(m: dict) -> dict:
    train = m["train"]
    out = {
        "recipe_version": m.get("recipe_version"),
        "train": {k: train.get(k) for k in ("seconds", "precision", "trainable_parameters", "device")},
    }
    if (train.get("preference") or {}).get("seconds") is not None:
        out["train"]["preference"] = {"seconds": train["preference"]["seconds"]}
    for side in ("after", "after_routed"):
        if side in m:
            out[side] = {k: m[side].get(k) for k in KEPT if m[side].get(k) is not None}
    return out


def rejudged(run: Path, m: dict) -> dict:
    """metrics.json with retention and general accuracy judged again from the run's probe answers
    (probes.jsonl, probes_routed.jsonl) by the current scorer: answers are kept, so a row keeps
    up with a corrected scorer without training again."""
    for side, name in (("after", "probes.jsonl"), ("after_routed", "probes_routed.jsonl")):
        path = run / name
        if side not in m or not path.exists():
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if not rows or any("before" not in r for r in rows):
            continue
        _, after, _ = probe_results(rows, [r["before"] for r in rows], [r["after"] for r in rows])
        m[side].update({k: after[k] for k in ("retention", "general_accuracy")})
    return m


def answer_tokens(run: Path) -> int:
    """The answer length limit a run was evaluated with (its config.yaml)."""
    return load_config(run / "config.yaml").eval.max_new_tokens


def finished(out: Path) -> dict[str, dict]:
    """The kept rows (bench/quality.json), with every row finished under `out` laid over them."""
    rows = json.loads(QUALITY_JSON.read_text(encoding="utf-8"))["rows"] if QUALITY_JSON.exists() else {}
    for path in sorted(out.glob("*/*/metrics.json")):
        rows[f"{path.parent.parent.name}/{path.parent.name}"] = {
            "source": "run",
            "scorer": SCORER,
            "answer_tokens": answer_tokens(path.parent),
            **kept(rejudged(path.parent, json.loads(path.read_text(encoding="utf-8")))),
        }
    return rows


def stale_reasons(m: dict) -> list[str]:
    """Why a kept row's retention is not comparable with a current row's, its run folder being gone:
    general answers judged by an earlier scorer, or answers cut at another length limit."""
    reasons = []
    if m.get("scorer", 1) < SCORER:
        reasons.append("scorer")
    if m.get("answer_tokens", 48) != ANSWER_TOKENS:
        reasons.append("length")
    return reasons


def stale(m: dict) -> bool:
    return bool(stale_reasons(m))


def read_rows(kept_rows: dict[str, dict]) -> list[dict]:
    rows = []
    for example, (_, seeds) in EXAMPLES.items():
        for recipe in RECIPES:
            for seed in seeds:
                m = kept_rows.get(row_key(example, recipe, seed))
                if m:
                    rows.append({"example": example, "recipe": recipe, "seed": seed, "metrics": m})
    return rows


def method_rows(kept_rows: dict[str, dict]) -> list[dict]:
    """The method rows of one robust version (the newest with any), so that every method trained
    the same data; the LoRA row is that version's robust row."""
    rows = []
    v = next(
        (
            v
            for v in range(version("robust"), 0, -1)
            if any(row_key(METHOD_EXAMPLE, f"robust+{m}", METHOD_SEED, v) in kept_rows for m in METHODS)
        ),
        version("robust"),
    )
    for variant in ["lora", *METHODS]:
        name = "robust" if variant == "lora" else f"robust+{variant}"
        m = kept_rows.get(row_key(METHOD_EXAMPLE, name, METHOD_SEED, v))
        if m:
            rows.append({"method": variant, "version": v, "metrics": m})
    return rows


def history(kept_rows: dict[str, dict]) -> str:
    """Earlier recipe versions' rows, as a mean per example: what the current version replaced."""
    groups: dict[tuple, list[dict]] = {}
    for key, m in sorted(kept_rows.items()):
        example, recipe, v, _ = parse_key(key)
        if recipe in RECIPES and v < version(recipe):
            groups.setdefault((example, recipe, v), []).append(m)
    if not groups:
        return ""
    lines = [
        "\n## Earlier recipe versions\n",
        "Kept in bench/quality.json, no longer in the tables above; weights-only means over the seeds run.\n",
        "| example | recipe | seeds | recall | reverse | sealed | retention | abstention | false abst. |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (example, recipe, v), ms in groups.items():

        def mean(k: str, ms=ms) -> str:
            return _mean_of_all(ms, k)

        lines.append(
            f"| {example} | {recipe} v{v} | {len(ms)} | {mean('exact_recall')} | {mean('reverse_recall')} "
            f"| {mean('sealed_recall')} | {mean('retention')} | {mean('abstention')} | {mean('false_abstention')} |"
        )
    return "\n".join(lines) + "\n"


def methods_table(rows: list[dict]) -> str:
    """One row a training method, on the robust recipe's culinary data (weights only)."""
    if not rows:
        return "No method row has finished yet (`python bench/quality.py --methods`).\n"
    head = (
        "| method | robust | recall | reverse | retention | abstention | false abst. | training (s, precision) "
        "| of which preference (s) "
        "| trainable parameters |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        m = r["metrics"]
        a = lambda k, m=m: _f(_get(m, "after", k))  # noqa: E731
        preference = (m["train"].get("preference") or {}).get("seconds")
        lines.append(
            f"| {r['method']} | v{r['version']} | {a('exact_recall')} | {a('reverse_recall')} "
            f"| {a('retention')}{' †' if stale(m) else ''} | {a('abstention')} "
            f"| {a('false_abstention')} | {m['train']['seconds'] + (preference or 0):.0f} "
            f"({m['train'].get('precision', '?')}) "
            f"| {f'{preference:.0f}' if preference is not None else '—'} | {m['train']['trainable_parameters']:,} |"
        )
    if any(stale(r["metrics"]) for r in rows):
        lines.append(stale_note([r["metrics"] for r in rows]).rstrip("\n"))  # a table ends at a blank line
    missing = [v for v in METHODS if v not in {r["method"] for r in rows}]
    if missing:
        lines.append(
            f"\nNot finished yet: {', '.join(missing)} (`python bench/quality.py --methods {' '.join(missing)}`)."
        )
    return head + "\n".join(lines) + "\n"


def _get(m: dict, side: str, key: str):
    return (m.get(side) or {}).get(key)


def _f(v) -> str:
    return "—" if v is None else f"{v:.2f}"


def _mean_of_all(ms: list[dict], key: str, side: str = "after") -> str:
    """The mean of `key` over every row, or a dash: a mean over some of the seeds would pass for
    all of them (older rows kept fewer figures)."""
    values = [v for m in ms if (v := _get(m, side, key)) is not None]
    return _f(statistics.mean(values)) if values and len(values) == len(ms) else "—"


def table(rows: list[dict]) -> str:
    head = (
        "| example | recipe | seed | recall | reverse | sealed | retention | abstention | false abst. "
        "| general acc. | routed recall | routed retention | training (s, precision) | cost × plain |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    plain = plain_seconds(rows)
    tags = machine_tags(rows)
    lines = []
    for r in rows:
        m = r["metrics"]
        a = lambda k, m=m: _f(_get(m, "after", k))  # noqa: E731
        routed = "after_routed" in m
        trained_on = f", {tags[_device(r)]}" if tags else ""
        seconds = m["train"]["seconds"]
        base = plain.get(_pair(r))
        ratio = f"{seconds / base:.2f}" if base and r["recipe"] != "plain" else "—"
        mark = " †" if stale(m) else ""
        lines.append(
            f"| {r['example']} | {r['recipe']} v{m.get('recipe_version') or '?'} | {r['seed']} | {a('exact_recall')} "
            f"| {a('reverse_recall')} | {a('sealed_recall')} | {a('retention')}{mark} | {a('abstention')} "
            f"| {a('false_abstention')} | {a('general_accuracy')}{mark} "
            f"| {_f(_get(m, 'after_routed', 'exact_recall')) if routed else '—'} "
            f"| {_f(_get(m, 'after_routed', 'retention')) + mark if routed else '—'} "
            f"| {seconds:.0f} ({m['train'].get('precision', '?')}{trained_on}) | {ratio} |"
        )
    return head + "\n".join(lines) + "\n" + stale_note([r["metrics"] for r in rows])


STALE_NOTES = {
    "scorer": (
        "judged by general-question scorer 1, which took an accepted phrase anywhere in the answer: it "
        "counted 'FAQ stands for \"What's a Favorite Answer?\" and is a web page that provides answers to "
        "frequently asked questions' as right, and any answer naming 'apple' as writing it in capital "
        "letters. Scorer 2 judges an acronym by the expansion the answer claims and the capital letters by "
        "their case"
    ),
    "length": (
        f"cut at 48 tokens, not {ANSWER_TOKENS}: a calculation explained step by step lost its result and "
        'counted as lost ("What is 6 times 2?" in every robust run of session 34)'
    ),
}


def stale_note(ms: list[dict]) -> str:
    """The † footnote for the reasons found among `ms`, or nothing."""
    reasons = sorted({reason for m in ms for reason in stale_reasons(m)})
    if not reasons:
        return ""
    return (
        "\n† The row's general answers were "
        + "; or ".join(STALE_NOTES[r] for r in reasons)
        + ". A row whose run folder is still there is brought up to date by `python bench/quality.py "
        "--reevaluate`; one whose folder is gone stands until the row is run again.\n"
    )


def verdicts(rows: list[dict]) -> list[str]:
    """Per example and recipe: each target met or not, on the mean of its seeds and its worst seed."""
    out = []
    for example, (_, seeds) in EXAMPLES.items():
        for recipe in RECIPES:
            mine = [r for r in rows if r["example"] == example and r["recipe"] == recipe]
            if not mine:
                continue
            missing = len(seeds) - len(mine)
            parts = []
            for key, target, kind, side in TARGETS:
                values = [_get(r["metrics"], side, key) for r in mine]
                values = [v for v in values if v is not None]
                if not values:
                    continue
                mean = statistics.mean(values)
                worst = min(values) if kind == "min" else max(values)
                ok = (
                    (mean >= target and worst >= target - SLACK)
                    if kind == "min"
                    else (mean <= target and worst <= target + SLACK)
                )
                sign = "≥" if kind == "min" else "≤"
                name = key if side == "after" else f"routed {key}"
                parts.append(f"{name} {mean:.3f} (worst {worst:.3f}) {sign} {target}: {'met' if ok else '**not met**'}")
            old = sum(stale(r["metrics"]) for r in mine)
            seeds_note = (
                f" ({len(mine)} of {len(seeds)} seeds{'; incomplete' if missing else ''}"
                f"{f'; {old} measured by an earlier evaluation †' if old else ''})"
            )
            out.append(f"- **{example} / {recipe}**{seeds_note}: " + "; ".join(parts))
            sealed = [_get(r["metrics"], "after", "sealed_recall") for r in mine]
            exact = [_get(r["metrics"], "after", "exact_recall") for r in mine]
            if all(v is not None for v in sealed + exact) and statistics.mean(exact) - statistics.mean(sealed) > 0.05:
                out.append(
                    f"  - sealed_recall {statistics.mean(sealed):.2f} is more than 0.05 below exact_recall "
                    f"{statistics.mean(exact):.2f}: the recipe is tuned to the held-out styles."
                )
    return out


def _pair(row: dict) -> tuple:
    # Only a plain row trained in the same precision on the same machine is a cost baseline: bf16
    # and fp32 differ 2-3x, and so do two CPUs.
    return row["example"], row["seed"], row["metrics"]["train"].get("precision"), _device(row)


def _device(row: dict) -> str:
    return row["metrics"]["train"].get("device") or "not recorded"


def plain_seconds(rows: list[dict]) -> dict[tuple, float]:
    return {_pair(r): r["metrics"]["train"]["seconds"] for r in rows if r["recipe"] == "plain"}


def cost_ratios(rows: list[dict]) -> list[float]:
    """Robust's training seconds over plain's, for each example and seed trained in one precision."""
    plain = plain_seconds(rows)
    return [
        r["metrics"]["train"]["seconds"] / plain[_pair(r)]
        for r in rows
        if r["recipe"] == "robust" and _pair(r) in plain
    ]


def cost(rows: list[dict]) -> list[str]:
    ratios = cost_ratios(rows)
    if not ratios:
        return []
    mean = statistics.mean(ratios)
    verdict = "met" if mean <= COST_LIMIT else "**not met**"
    return [
        f"- cost: robust training takes {mean:.2f}x plain's on average over {len(ratios)} pairs "
        f"(max {max(ratios):.2f}x; target ≤ {COST_LIMIT}x: {verdict})"
    ]


def machines(rows: list[dict]) -> str:
    """The machines the table's rows trained on (each run records its own), most rows first; with
    more than one, each with the letter its rows carry in the training column."""
    counts = Counter(_device(r) for r in rows)
    if len(counts) == 1:
        return next(iter(counts))
    tags = machine_tags(rows)
    return "; ".join(f"{tags[name]}: {name} ({n} row{'s' if n > 1 else ''})" for name, n in counts.most_common())


def machine_tags(rows: list[dict]) -> dict[str, str]:
    """A letter for each machine, most rows first, when the rows come from more than one (else none)."""
    counts = Counter(_device(r) for r in rows)
    return {} if len(counts) < 2 else {name: chr(ord("A") + i) for i, (name, _) in enumerate(counts.most_common())}


def provenance(kept_rows: dict[str, dict]) -> str:
    """Rows not measured from a run folder by this script say where their figures came from."""
    sources: dict[str, list[str]] = {}
    for key, m in sorted(kept_rows.items()):
        if m.get("source", "run") != "run":
            sources.setdefault(m["source"], []).append(key)
    if not sources:
        return ""
    return (
        "\n## Where the figures come from\n\n"
        + "\n".join(f"- {', '.join(keys)}: {source}." for source, keys in sources.items())
        + "\n"
    )


def write(kept_rows: dict[str, dict]) -> None:
    rows = read_rows(kept_rows)
    precisions = sorted({r["metrics"]["train"].get("precision", "?") for r in rows})
    text = (
        "# Quality bench\n\n"
        "Written by `python bench/quality.py` from the rows it finished (kept in bench/quality.json); "
        "do not edit by hand.\n"
        f"Machine: {machines(rows) or '—'}; training precision: {', '.join(precisions) or '—'}. "
        "Each row is one `lexitune run` of the example's own config with `recipe` and `seed` set. "
        "recall, reverse, sealed, retention, abstention and false abstention are the **weights alone** "
        "(routing off, no guard: what merged, GGUF and Ollama exports answer); routed columns are the "
        "same weights with `model.route: glossary` and `model.guard_declines: true` (chat and serve). "
        "uk-public-sector uses its first 20 terms.\n\n"
        + table(rows)
        + "\n## Targets\n\n"
        + "\n".join(verdicts(rows) + cost(rows))
        + "\n\n## Training methods\n\n"
        f"{METHOD_EXAMPLE}, seed {METHOD_SEED}, the robust recipe's data and settings at the version in the robust column; each method changes only "
        "what is trained (full fine-tuning at learning rate 5e-5), and `lora+dpo` / `lora+orpo` add preference "
        "tuning on the run's own pairs after LoRA. Weights-only figures; training seconds include the "
        "preference stage, and compare only between rows of one precision (bf16 rows ran on a CPU with "
        "AVX512-BF16, fp32 rows on one without).\n\n"
        + methods_table(method_rows(kept_rows))
        + history(kept_rows)
        + provenance(kept_rows)
    )
    QUALITY_MD.write_text(text, encoding="utf-8")
    summary: dict[str, list[str]] = {}
    for recipe in RECIPES:
        for example in EXAMPLES:
            mine = [r["metrics"] for r in rows if r["recipe"] == recipe and r["example"] == example]
            if not mine:
                continue

            def mean(k: str, mine=mine) -> float:
                return statistics.mean(v for m in mine if (v := _get(m, "after", k)) is not None)

            ratios = cost_ratios([r for r in rows if r["example"] == example])
            training = f", training {statistics.mean(ratios):.2f}x plain's time" if recipe != "plain" and ratios else ""
            try:
                summary.setdefault(recipe, []).append(
                    f"{example} ({len(mine)} seed{'s' if len(mine) > 1 else ''}): recall {mean('exact_recall'):.2f}, "
                    f"retention {mean('retention'):.2f}, abstention {mean('abstention'):.2f}, "
                    f"false abstention {mean('false_abstention'):.2f}{training}"
                )
            except statistics.StatisticsError:
                continue
    MEASURED_JSON.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    QUALITY_JSON.write_text(
        json.dumps({"rows": dict(sorted(kept_rows.items()))}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    readme_table(rows)


def readme_table(rows: list[dict]) -> None:
    """The README's one results table: the culinary example, mean over its finished seeds."""
    start, end = "<!-- quality:start -->", "<!-- quality:end -->"
    text = README.read_text(encoding="utf-8")
    if start not in text or end not in text:
        return
    lines = [
        "| culinary-fr (mean over seeds) | recall | reverse | sealed | retention | abstention | false abstention | training time (× plain) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for recipe in RECIPES:
        mine = [r["metrics"] for r in rows if r["recipe"] == recipe and r["example"] == "culinary-fr"]
        if not mine:
            continue

        def mean(key: str, side: str = "after", mine=mine) -> str:
            value = _mean_of_all(mine, key, side)
            return f"{value} †" if key == "retention" and any(stale(m) for m in mine) else value

        # Seconds from machines of different speed and precision do not average; the ratio to
        # plain, both trained in one bench command, does.
        ratios = cost_ratios([r for r in rows if r["example"] == "culinary-fr"])
        multiple = "1.00" if recipe == "plain" else (f"{statistics.mean(ratios):.2f}" if ratios else "—")
        lines.append(
            f"| `recipe: {recipe}` ({len(mine)} seed{'s' if len(mine) > 1 else ''}) | {mean('exact_recall')} "
            f"| {mean('reverse_recall')} | {mean('sealed_recall')} | {mean('retention')} | {mean('abstention')} "
            f"| {mean('false_abstention')} | {multiple} |"
        )
        if recipe != "plain" and any("after_routed" in m for m in mine):
            lines.append(
                f"| … with routing and the guard (chat, serve) | {mean('exact_recall', 'after_routed')} "
                f"| {mean('reverse_recall', 'after_routed')} | {mean('sealed_recall', 'after_routed')} "
                f"| {mean('retention', 'after_routed')} | {mean('abstention', 'after_routed')} "
                f"| {mean('false_abstention', 'after_routed')} | |"
            )
    note = (
        " † The mean includes seeds whose general answers were judged by an earlier scorer or cut at"
        " an earlier answer length limit; see the bench file."
        if any(stale(r["metrics"]) for r in rows if r["example"] == "culinary-fr")
        else ""
    )
    block = (
        "\n".join(lines)
        + "\n\nFrom [bench/QUALITY.md](bench/QUALITY.md) (`python bench/quality.py`), which has every example and seed."
        + note
    )
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{block}\n{end}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "quality")
    parser.add_argument("--only", nargs="*", default=None, help="rows to run, as EXAMPLE/RECIPE/SEED")
    parser.add_argument("--report", action="store_true", help="run nothing; rewrite the files from finished rows")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="extra overrides for every row")
    parser.add_argument("--methods", nargs="*", default=None, help=f"run the method rows ({', '.join(METHODS)}) only")
    parser.add_argument(
        "--reevaluate", nargs="*", default=None, help="evaluate finished rows (EXAMPLE/RECIPE/SEED; all if none) again"
    )
    args = parser.parse_args(argv)
    if args.reevaluate is not None:
        wanted = {tuple(o.split("/")) for o in args.reevaluate}
        for example, (_, seeds) in EXAMPLES.items():
            for seed in seeds:
                for recipe in RECIPES:
                    if not wanted or (example, recipe, str(seed)) in wanted:
                        reevaluate(args.out, example, recipe, seed)
    elif args.methods is not None:
        for variant in args.methods or METHODS:
            run_row(args.out, METHOD_EXAMPLE, "robust", METHOD_SEED, [*METHODS[variant], *args.sets], variant)
    elif not args.report:
        wanted = None if args.only is None else {tuple(o.split("/")) for o in args.only}
        for example, (_, seeds) in EXAMPLES.items():
            for seed in seeds:
                for recipe in RECIPES:
                    if wanted is None or (example, recipe, str(seed)) in wanted:
                        run_row(args.out, example, recipe, seed, args.sets)
    write(finished(args.out))
    print(QUALITY_MD.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
