"""Batched serving against one request at a time, on loopback with the official openai client:
written to bench/SERVE.md.

    python bench/serve.py                 # 16 and 64 concurrent clients, 48-token greedy answers
    python bench/serve.py --clients 16    # one concurrency only

Two adapters of the shipped model (culinary-fr and invented-en, 3 terms each, trained by
bench/reliability.py's helper if their folders are missing) and the base model are asked their
held-out questions, mixed in every batch. The same requests go to `lexitune serve`'s app built
with `max_batch=1` (every request decoded alone under the lock, as before batching) and with the
default batch; each client sends its requests one after the other. Reported: throughput, p50/p99
latency, the share of answers identical to the one-at-a-time server's, and each adapter's recall
on its own glossary (the definition in the answer).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

OUT_MD = ROOT / "bench" / "SERVE.md"
RESULTS = ROOT / "bench" / "serve.json"
MAX_TOKENS = 48


def questions_of(runs: dict[str, Path]) -> list[tuple[str, str, str]]:
    """(model, question, definition) for each adapter's forward held-out questions, and the same
    questions to the base model (definition None: not scored)."""
    jobs = []
    for name, run in runs.items():
        glossary = {t["term"]: t["definition"] for t in json.loads((run / "data" / "glossary.json").read_text())}
        for line in (run / "data" / "test.jsonl").read_text().splitlines():
            row = json.loads(line)
            if row["style"].split(".")[0] in ("fr", "en"):
                jobs.append((name, row["messages"][0]["content"], glossary[row["term"]]))
                jobs.append(("base", row["messages"][0]["content"], None))
    return jobs


def load(url: str, jobs: list, clients: int) -> dict:
    import openai

    client = openai.OpenAI(base_url=url, api_key="none", max_retries=0, timeout=3600)
    answers: dict[int, str] = {}
    latencies: list[float] = []

    def one(i: int) -> None:
        model, question, _ = jobs[i]
        start = time.perf_counter()
        r = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": question}], max_tokens=MAX_TOKENS, temperature=0
        )
        latencies.append(time.perf_counter() - start)
        answers[i] = r.choices[0].message.content

    def worker(k: int) -> None:
        for i in range(k, len(jobs), clients):  # each client one request after the other
            one(i)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(jobs),
        "seconds": round(wall, 1),
        "requests_per_s": round(len(jobs) / wall, 3),
        "p50_s": round(latencies[len(latencies) // 2], 2),
        "p99_s": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 2),
        "answers": [answers[i] for i in range(len(jobs))],
    }


def recall(jobs: list, answers: list[str]) -> dict[str, float]:
    scored: dict[str, list[bool]] = {}
    for (model, _, definition), answer in zip(jobs, answers, strict=True):
        if definition is not None:
            scored.setdefault(model, []).append(definition.lower() in answer.lower())
    return {m: round(sum(v) / len(v), 3) for m, v in scored.items()}


def bench(runs: dict[str, Path], clients: list[int]) -> dict:
    from bench.reliability import Server

    from lexitune.serve import AdapterRegistry, create_app

    jobs = questions_of(runs)
    out = {}
    for n in clients:
        # 4 requests a client: with fewer, the last partial wave (a batch draining to one row)
        # weighs on throughput as much as the steady state does.
        per_client = 4
        plan = (jobs * (1 + (per_client * n) // len(jobs)))[: per_client * n]
        row = {}
        for label, max_batch in (("one_at_a_time", 1), ("batched", 64)):
            registry = AdapterRegistry.from_runs(runs, max_batch=max_batch)
            with Server(create_app(registry)) as url:
                row[label] = load(url, plan, n)
            if registry.scheduler is not None:
                row[label]["widest_batch"] = registry.scheduler.widest
                row[label]["longest_cache"] = registry.scheduler.longest
            row[label]["recall"] = recall(plan, row[label]["answers"])
            print(n, label, {k: v for k, v in row[label].items() if k != "answers"}, flush=True)
        same = sum(a == b for a, b in zip(row["one_at_a_time"]["answers"], row["batched"]["answers"], strict=True))
        row["identical"] = round(same / len(plan), 3)
        row["speedup"] = round(row["batched"]["requests_per_s"] / row["one_at_a_time"]["requests_per_s"], 2)
        for side in ("one_at_a_time", "batched"):
            row[side].pop("answers")
        out[str(n)] = row
    return out


def write_report(results: dict) -> None:
    from bench.reliability import machine

    lines = [
        "# Serving bench",
        "",
        "Written by `python bench/serve.py`; do not edit by hand. "
        f"Machine: {machine()}. "
        "The shipped SmolLM2-135M-Instruct with two adapters (culinary-fr and invented-en, 3 terms each) and the "
        f"base model, their held-out questions mixed, greedy, {MAX_TOKENS}-token answers, the official openai "
        "client on loopback; each client sends its requests one after the other. `one at a time` is the same "
        "server with `max_batch=1` (each request decoded alone under the lock); `batched` the default.",
        "",
        "| clients | requests | one at a time (req/s) | p50 / p99 (s) | batched (req/s) | p50 / p99 (s) | widest batch | **speed-up** | identical answers | recall alone / batched |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, r in results.items():
        a, b = r["one_at_a_time"], r["batched"]
        rec = "; ".join(f"{m} {a['recall'][m]:.2f} / {b['recall'][m]:.2f}" for m in a["recall"])
        lines.append(
            f"| {n} | {a['requests']} | {a['requests_per_s']} | {a['p50_s']} / {a['p99_s']} | {b['requests_per_s']} | "
            f"{b['p50_s']} / {b['p99_s']} | {b.get('widest_batch', '—')} | **{r['speedup']}x** | {r['identical']:.0%} | {rec} |"
        )
    lines += [
        "",
        "Targets (serving issue): speed-up ≥ 3.5x at 16 clients and ≥ 5x at 64; the same recall, and at least "
        "95% of answers the same text (batched fp32 may flip a near-tie).",
        "",
    ]
    OUT_MD.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="*", default=[16, 64])
    parser.add_argument("--work", type=Path, default=None, help="where the adapters' runs are (made if missing)")
    parser.add_argument("--report", action="store_true", help="only rewrite bench/SERVE.md from bench/serve.json")
    args = parser.parse_args()
    if args.report:
        write_report(json.loads(RESULTS.read_text()))
        return
    from bench.reliability import _train_adapters

    work = args.work or Path(tempfile.mkdtemp(prefix="lexitune-serve-"))
    runs = _train_adapters(work)
    results = bench(runs, args.clients)
    RESULTS.write_text(json.dumps(results, indent=2), encoding="utf-8")
    write_report(results)
    print(f"written: {OUT_MD}")


if __name__ == "__main__":
    main()
