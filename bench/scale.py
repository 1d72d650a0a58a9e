"""Time and recall as the glossary grows: 10, 100, 1,000 invented terms (each run its own process).

Cost should grow linearly with the terms (tokens/s stays flat). Where a size is too slow for the
machine, `--max-steps` caps it and the full run's time is extrapolated from the measured tokens/s;
the report says which rows are extrapolated; a capped run has seen only some terms, so its recall is
not reported.

    python bench/scale.py --terms 10 100 1000 --max-steps 0 40 40 --out bench/SCALE.md
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_vs_trl import run_phase  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terms", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--epochs", type=float, nargs="+", default=[3, 3, 1], help="per size")
    parser.add_argument("--max-steps", type=int, nargs="+", default=[0, 0, 0], help="per size; 0: all epochs")
    parser.add_argument("--eval-limit", type=int, default=60, help="held-out questions per size")
    parser.add_argument("--model", default="default")
    parser.add_argument("--out", type=Path)
    a = parser.parse_args()
    lines = [
        "Command: `python bench/scale.py " + " ".join(sys.argv[1:]) + "`",
        "",
        "| terms | conversations | epochs | steps run | tokens run | seconds | tokens/s | full run (s) | "
        "exact_recall |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for terms, epochs, cap in zip(a.terms, a.epochs, a.max_steps, strict=True):
        cfg = {
            "model": a.model,
            "seed": 0,
            "max_length": 256,
            "batch_size": 8,
            "lr": 2e-3,
            "max_new_tokens": 48,
            "terms": terms,
            "epochs": epochs,
            "eval_limit": a.eval_limit if not cap else 1,  # a capped run saw few terms: its recall means nothing
            "generation": 0,
            "max_steps": cap or None,
        }
        out = run_phase("lexitune", cfg)
        full_steps = math.ceil(math.ceil(terms * 8 / 8) * epochs)
        capped = out["steps"] < full_steps
        full = out["seconds"] * full_steps / out["steps"]
        lines.append(
            f"| {terms} | {terms * 8} | {epochs:g} | {out['steps']}/{full_steps} | {out['tokens']} | "
            f"{out['seconds']:.1f} | {out['tokens_per_second']:.0f} | "
            f"{full:.0f}{' (extrapolated)' if capped else ''} | "
            f"{'not measured (capped run)' if capped else format(out['recall'], '.3f')} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        a.out.write_text(text)


if __name__ == "__main__":
    main()
