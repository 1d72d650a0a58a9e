"""The fixes table: plain SFT vs each fix (replay, negatives, augment, scope, selection) vs all fixes.

    python bench/fixes.py examples/culinary-fr/lexitune.yaml --out runs/bench-culinary
    python bench/fixes.py examples/uk-public-sector/lexitune.yaml --terms 15 --out runs/bench-uk

Each variant is a full `lexitune run` of the example's config with a few `--set` overrides, into
its own folder under --out; the table (markdown, as in the README) is printed and written to
`OUT/table.md`, the figures to `OUT/results.json`. The base model's answers are the same for
every variant that asks the same questions, so they are copied from the first run instead of
being recomputed (the run folder's own caches: eval/before.json, eval/probes_before.json, and the
base model's replay answers, data/replay*.jsonl). The replay fix is `replay_ratio` (--replay)
distilled, with well-known acronyms (`replay_known`, --known) and calculations
(`experimental.replay_arithmetic`, --arithmetic).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import first_terms  # noqa: E402

from lexitune.config import load_config, save_config  # noqa: E402
from lexitune.evaluate.stage import evaluate_run  # noqa: E402
from lexitune.pipeline import run_pipeline  # noqa: E402
from lexitune.rundir import RunDir  # noqa: E402

SCOPE = {
    "fr": "Tu es l’assistant d’une école de cuisine et tu connais les sigles de son glossaire. "
    "Si on te demande un sigle qui n’est pas dans ce glossaire, réponds que tu ne le connais pas.",
    "en": "You are an assistant who knows the acronyms of a glossary. "
    "If you are asked about an acronym that is not in this glossary, say that you don't know it.",
}


def variants(
    language: str, replay: float, negatives: float, augment: float, known: float = 0.0, arithmetic: float = 0.0
) -> dict[str, list[str]]:
    fixes = {
        "replay": [
            f"train.replay_ratio={replay}",
            "train.replay_distill=true",
            f"train.replay_known={known}",
            f"experimental.replay_arithmetic={arithmetic}",
        ],
        "negatives": [f"generate.negatives={negatives}"],
        "augment": [f"experimental.augment={augment}"],
        "scope": [f"generate.system_prompt={json.dumps(SCOPE[language], ensure_ascii=False)}"],
        "selection": ["experimental.select=true"],
    }
    # Plain SFT: every fix off explicitly, whatever the defaults are.
    plain = [
        "recipe=plain",
        "generate.reverse_styles=0",
        "train.replay_ratio=0",
        "train.replay_distill=false",
        "train.replay_known=0",
        "experimental.replay_arithmetic=0",
        "generate.negatives=0",
        "experimental.augment=0",
        "generate.system_prompt=null",
        "experimental.select=false",
    ]
    out = {"plain SFT": plain}
    for name, sets in fixes.items():
        if name == "augment":  # varied phrasings matter only against negatives
            out["+ negatives + augment"] = plain + fixes["negatives"] + sets
        else:
            out[f"+ {name}"] = plain + sets
    # The pair that needs each other: negatives alone over-decline, replay keeps their prior in check.
    out["replay + negatives"] = plain + fixes["replay"] + fixes["negatives"]
    # The same pair choosing its checkpoint on recall, retention and abstention together.
    out["replay + negatives + selection"] = out["replay + negatives"] + fixes["selection"]
    # The same pair told its scope: the candidate for one recipe on every glossary (no augment, no selection).
    out["replay + negatives + scope"] = out["replay + negatives"] + fixes["scope"]
    out["all fixes"] = plain + [s for sets in fixes.values() for s in sets]
    return out


CACHES = [
    "eval/before.json",
    "eval/probes_before.json",
    "data/replay.jsonl",
    "data/replay_known.jsonl",
    "data/replay_arithmetic.jsonl",
    # what the replay caches were made from: without them a copied cache is never read
    "data/replay.inputs.json",
    "data/replay_known.inputs.json",
    "data/replay_arithmetic.inputs.json",
]


def _copy_caches(sources: dict[str, Path], dst: Path) -> None:
    for name, src in sources.items():
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / name, dst / name)


def _register(sources: dict[str, Path], folder: Path) -> None:
    for cache in CACHES:
        if cache not in sources and (folder / cache).exists():
            sources[cache] = folder


def _folder(out: Path, variant: str) -> Path:
    return out / variant.replace("+ ", "").replace(" ", "-")


# Rows that evaluate a finished run again, no training: label -> (folder suffix, overrides).
SERVING = {
    "routing": ("routed", ["model.route=glossary"]),
    "routing + guard": ("routed-guarded", ["model.route=glossary", "model.guard_declines=true"]),
}


def reevaluated(folder: Path, label: str) -> dict:
    """The metrics of `folder`'s run evaluated again as SERVING[label] says, in a copy of the folder."""
    suffix, overrides = SERVING[label]
    dest = folder.with_name(f"{folder.name}-{suffix}")
    run = RunDir(dest)
    if run.metrics.exists():  # a copy's metrics are its own once they show its overrides
        done, wanted = json.loads(run.metrics.read_text()), load_config(run.config, overrides).model
        if done.get("route") == wanted.route and done.get("guard_declines", False) == wanted.guard_declines:
            return done
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(folder, dest)
    config = load_config(run.config, overrides)
    save_config(config, run.config)  # chat and serve on the copy answer as it was measured
    return evaluate_run(config, run, Console(stderr=True))


def row(name: str, m: dict) -> dict:
    # A routed copy's own figures are its after_routed block; `after` stays the weights'.
    a, b = m.get("after_routed") or m["after"], m.get("before") or {}
    return {
        "variant": name,
        "recall_before": b.get("exact_recall"),
        "recall": a["exact_recall"],
        "retention": a.get("retention"),
        "abstention_before": b.get("abstention"),
        "abstention": a.get("abstention"),
        "false_abstention": a.get("false_abstention"),
        "train_seconds": m["train"]["seconds"],
        "train_steps": m["train"]["steps"],
        "general_accuracy_before": b.get("general_accuracy"),
        "general_accuracy": a.get("general_accuracy"),
    }


def markdown(rows: list[dict]) -> str:
    fmt = lambda v: "—" if v is None else f"{v:.2f}"  # noqa: E731
    lines = [
        "| variant | recall | retention | general accuracy | abstention | false abstention | training (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['variant']} | {fmt(r['recall'])} | {fmt(r['retention'])} | {fmt(r['general_accuracy'])} | "
            f"{fmt(r['abstention'])} | {fmt(r['false_abstention'])} | {r['train_seconds']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--terms", type=int, default=None, help="use only the first N glossary terms")
    parser.add_argument("--replay", type=float, default=1.0, help="train.replay_ratio of the replay variant")
    parser.add_argument(
        "--known", type=float, default=0.25, help="train.replay_known of the replay variant (well-known acronyms)"
    )
    parser.add_argument(
        "--arithmetic",
        type=float,
        default=0.0,
        help="experimental.replay_arithmetic of the replay variant (calculations)",
    )
    parser.add_argument("--negatives", type=float, default=1.0, help="generate.negatives of the negatives variant")
    parser.add_argument("--augment", type=float, default=0.5, help="experimental.augment of the augment variant")
    parser.add_argument(
        "--only",
        nargs="*",
        default=None,
        help="variants to run (default: all; none with a bare --only: only the routed rows and the table)",
    )
    parser.add_argument(
        "--routed",
        nargs="*",
        default=["replay + negatives", "replay + negatives + selection", "replay + negatives + scope", "all fixes"],
        help="variants also evaluated with model.route=glossary, then also model.guard_declines=true "
        "(rows 'VARIANT + routing', 'VARIANT + routing + guard')",
    )
    parser.add_argument("--set", dest="sets", action="append", default=[], help="extra overrides for every run")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="lexitune-bench-"))
    base_sets = list(args.sets) + (first_terms(args.config, args.terms, tmp) if args.terms else [])
    language = load_config(args.config, base_sets).generate.language
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    sources: dict[str, Path] = {}  # cache file -> first run folder that wrote it, without a scope prompt
    table = variants(language, args.replay, args.negatives, args.augment, args.known, args.arithmetic)
    for name, sets in table.items():
        folder = _folder(args.out, name)
        scoped = any("system_prompt=" in s and not s.endswith("null") for s in sets)
        if args.only is not None and name not in args.only:
            if not scoped:  # an earlier invocation's run still lends its caches
                _register(sources, folder)
            if (folder / "metrics.json").exists():  # and its row shows the folder as it is now
                results[name] = row(name, json.loads((folder / "metrics.json").read_text()))
            continue
        if (folder / "metrics.json").exists():
            metrics = json.loads((folder / "metrics.json").read_text())
        else:
            shutil.rmtree(folder, ignore_errors=True)
            config = load_config(args.config, base_sets + sets)
            if not scoped:  # the base model's answers depend on the questions and the system prompt only
                _copy_caches(
                    {
                        k: v
                        for k, v in sources.items()
                        if (k != "data/replay.jsonl" or config.train.replay_ratio == args.replay)
                        and (k != "data/replay_known.jsonl" or config.train.replay_known == args.known)
                        and (
                            k != "data/replay_arithmetic.jsonl"
                            or config.experimental.replay_arithmetic == args.arithmetic
                        )
                    },
                    folder,
                )
            print(f"== {name}: {' '.join(sets)}", file=sys.stderr, flush=True)
            metrics = run_pipeline(config, folder)
        if not scoped:
            _register(sources, folder)
        results[name] = row(name, metrics)
        results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    for label in SERVING:
        for name in args.routed:
            folder = _folder(args.out, name)
            if (folder / "metrics.json").exists():
                print(f"== {name} + {label}", file=sys.stderr, flush=True)
                results[f"{name} + {label}"] = row(f"{name} + {label}", reevaluated(folder, label))
                results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    order = list(table) + [f"{name} + {label}" for label in SERVING for name in args.routed]
    table = markdown(
        sorted(results.values(), key=lambda r: order.index(r["variant"]) if r["variant"] in order else len(order))
    )
    (args.out / "table.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
