"""A finished run's GGUF exports answered by llama.cpp itself, against the run's own answers:
written to bench/GGUF.md.

    python bench/gguf_llama.py RUN                # f16, q8_0 and q4_0 of RUN's merged model
    python bench/gguf_llama.py RUN --quant q8_0   # one quantization
    python bench/gguf_llama.py RUN --name NAME    # kept in bench/gguf.json beside the runs before

Each quantization is exported with `lexitune export RUN gguf`, loaded by llama-cpp-python (its own
GGUF reader and its own reading of the embedded chat template) and asked the run's forward held-out
questions, greedy. Reported: the share of answers whose text is the run's own weights-only answer
in answers.jsonl (transformers, unmerged adapter), recall (the definition in the answer) for both,
and how many answers stopped at the end-of-turn token.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

OUT_MD = ROOT / "bench" / "GGUF.md"
RESULTS = ROOT / "bench" / "gguf.json"
QUANTS = ("f16", "q8_0", "q4_0")


def llama_answers(
    path: Path, conversations: list[list[dict]], max_tokens: int, threads: int = 2
) -> list[tuple[str, str]]:
    """(text, finish_reason) for each conversation, greedy, with the GGUF's own chat template."""
    import llama_cpp

    model = llama_cpp.Llama(model_path=str(path), n_ctx=512, n_threads=threads, verbose=False, seed=0)
    out = []
    for messages in conversations:
        r = model.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0, top_k=1)
        out.append((r["choices"][0]["message"]["content"], r["choices"][0]["finish_reason"]))
    return out


def forward_questions(run: Path) -> tuple[list[list[dict]], list[dict]]:
    """The chat messages of each forward held-out question (with the run's system prompt) and its
    row in answers.jsonl, which keeps the test set's order."""
    from lexitune.generate import read_conversations
    from lexitune.generate.split import family
    from lexitune.inference import with_system
    from lexitune.rundir import RunDir

    rundir = RunDir(run)
    config = rundir.load_config()
    rows = [json.loads(line) for line in rundir.answers.read_text(encoding="utf-8").splitlines()]
    asked = read_conversations(rundir.test_data)[: len(rows)]
    pairs = [(c, r) for c, r in zip(asked, rows, strict=True) if family(c.style) == "forward"]
    for c, r in pairs:  # a run whose answers are out of step with its test set is not compared
        if c.question != r["question"]:
            raise ValueError(f"{rundir.answers}: answer for {r['question']!r} where the test set asks {c.question!r}")
    return [with_system(config.generate.system_prompt, c.prompt_messages()) for c, _ in pairs], [r for _, r in pairs]


def compare(run: Path, out: Path, quants=QUANTS, max_tokens: int | None = None, threads: int = 2) -> dict:
    """{quant: figures} for each quantization of RUN's GGUF export, written under OUT; answers as
    long as the run's own (eval.max_new_tokens) unless `max_tokens` says otherwise."""
    from lexitune.evaluate.metrics import contains_definition
    from lexitune.export import export_run
    from lexitune.rundir import RunDir

    max_tokens = max_tokens or RunDir(run).load_config().eval.max_new_tokens

    conversations, rows = forward_questions(run)
    n = len(rows)
    figures = {
        "questions": n,
        "max_tokens": max_tokens,
        "transformers_recall": round(sum(bool(r["after_exact"]) for r in rows) / n, 4),
    }
    for quant in quants:
        started = time.perf_counter()
        folder = export_run(run, "gguf", out / quant, quant=quant)
        (gguf,) = folder.glob("*.gguf")
        exported = time.perf_counter() - started
        started = time.perf_counter()
        answers = llama_answers(gguf, conversations, max_tokens, threads)
        asked = time.perf_counter() - started
        figures[quant] = {
            "identical": sum(a.strip() == r["after"].strip() for (a, _), r in zip(answers, rows, strict=True)),
            "recall": round(
                sum(contains_definition(a, r["expected"]) for (a, _), r in zip(answers, rows, strict=True)) / n, 4
            ),
            "stopped": sum(reason == "stop" for _, reason in answers),
            "megabytes": round(gguf.stat().st_size / 2**20, 1),
            "export_s": round(exported, 1),
            "answer_s": round(asked, 1),
            "differ": [
                {"question": r["question"], "transformers": r["after"], "llama.cpp": a}
                for (a, _), r in zip(answers, rows, strict=True)
                if a.strip() != r["after"].strip()
            ],
        }
    return figures


def write_report(runs: dict[str, dict]) -> None:
    """bench/GGUF.md: one table a run, from the figures each run left in bench/gguf.json."""
    lines = [
        "# GGUF exports in llama.cpp",
        "",
        "Written by `python bench/gguf_llama.py RUN` from bench/gguf.json; do not edit by hand. Each run's "
        "forward held-out questions, greedy, through llama-cpp-python (its own GGUF reader and its own "
        "reading of the embedded chat template), against the run's own weights-only answers in "
        "transformers (unmerged adapter).",
    ]
    for name, figures in runs.items():
        n = figures["questions"]
        lines += [
            "",
            f"## `{name}`",
            "",
            f"{figures['model']}, recipe `{figures['recipe']}`, {n} questions, up to {figures['max_tokens']} "
            f"tokens, llama-cpp-python {figures['llama_cpp']}. Transformers: recall "
            f"{figures['transformers_recall']:.2f}.",
            "",
            "| quantization | size (MB) | same text as transformers | recall | stopped at end of turn |",
            "|---|---|---|---|---|",
        ]
        for quant in QUANTS:
            if quant in figures:
                f = figures[quant]
                lines.append(
                    f"| {quant} | {f['megabytes']} | {f['identical']} of {n} ({f['identical'] / n:.0%}) | "
                    f"{f['recall']:.2f} | {f['stopped']} of {n} |"
                )
        lines += ["", "Answers that differ (transformers → llama.cpp):", ""]
        for quant in QUANTS:
            for d in figures.get(quant, {}).get("differ", [])[:8]:
                lines.append(f"- {quant}, {d['question']!r}: {d['transformers']!r} → {d['llama.cpp']!r}")
    OUT_MD.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--quant", action="append", choices=QUANTS)
    parser.add_argument("--max-tokens", type=int, help="default: the run's eval.max_new_tokens")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--name", help="the run's name in bench/gguf.json and GGUF.md (default: its folder's)")
    args = parser.parse_args()
    import llama_cpp

    from lexitune.rundir import RunDir

    with tempfile.TemporaryDirectory() as tmp:
        figures = compare(args.run, Path(tmp), tuple(args.quant or QUANTS), args.max_tokens, args.threads)
    config = RunDir(args.run).load_config()
    figures |= {"model": config.model.name, "recipe": config.recipe, "llama_cpp": llama_cpp.__version__}
    # Every run measured before stays: a new run adds its table, the same name replaces its own.
    runs = json.loads(RESULTS.read_text(encoding="utf-8"))["runs"] if RESULTS.exists() else {}
    runs[args.name or args.run.name] = figures
    RESULTS.write_text(json.dumps({"runs": runs}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_report(runs)
    print(OUT_MD.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
