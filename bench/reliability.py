"""The reliability bench (issue 18): faults, hostile input and load, measured, written to docs/RELIABILITY.md.

    python bench/reliability.py                 # every part, the long version (~30 min on 2 cores)
    python bench/reliability.py --only fuzz     # one part: kills, faults, fuzz, server
    python bench/reliability.py --quick         # the sizes the test suite uses

Parts, each also a test in the suite at a smaller size:
- kills: SIGKILL `lexitune run` (the shipped model, 3 culinary terms, fp32) at random moments, then
  `--resume`: the adapter must equal an uninterrupted run's (max abs difference <= 1e-6) and
  metrics.json must match, timing fields aside; a finished run refuses to be run over.
- faults: generation through the scripted OpenAI-compatible server with 10%, 30% and 60% of replies
  faulty (429 with Retry-After, 500, timeouts, dropped connections, prose, wrong JSON): every term
  must end with conversations the LLM wrote or be named in the failures; none lost silently.
- fuzz: random and mangled files through every glossary loader, bombs, and random `--set` overrides:
  only LexituneError may come out; worst time and memory per input; 1 MB glossaries' load time.
- server: two adapters trained on different glossaries, 16 concurrent clients with the official
  openai client, streaming and not: errors, answers from the wrong adapter, p50/p99, throughput;
  then schemathesis against the server's OpenAPI schema.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

OUT_MD = ROOT / "docs" / "RELIABILITY.md"
RESULTS = ROOT / "bench" / "reliability.json"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "LEXITUNE_FORCE_PRECISION": "fp32"}
TIMING = ("seconds", "tokens_per_second", "resumed_from_step")
# One glossary loaded in a fresh process: terms, seconds, peak MB.
LOAD_PROBE = (
    "import time, resource, sys; from lexitune.glossary import load_glossary; t = time.perf_counter(); "
    "n = len(load_glossary(sys.argv[1])); "
    "print(n, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
)


# --- kills ---------------------------------------------------------------------------------------


def kill_config(folder: Path, glossary: str = "culinary-fr", terms: int = 3, model: str = "default") -> Path:
    """A few-minutes run of the shipped model on the first `terms` terms of an example."""
    from lexitune.config import load_config, save_config
    from lexitune.glossary import load_from_config

    folder.mkdir(parents=True, exist_ok=True)
    example = load_config(ROOT / "examples" / glossary / "lexitune.yaml")
    rows = [t.model_dump(include={"term", "definition", "aliases"}) for t in load_from_config(example.glossary)[:terms]]
    path = folder / f"{glossary}.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    config = load_config(
        None,
        [
            "recipe=plain",
            f"name={glossary}",
            f"glossary.path={path}",
            f"generate.language={example.generate.language}",
            f"model.name={model}",
            "train.epochs=4",
            "train.save_every=3",
            "train.precision=fp32",
            "eval.probe_limit=8",
            "eval.unknown_terms=2",
            "eval.embedding_model=none",
            "tracking=none",
        ],
    )
    out = folder / f"{glossary}.yaml"
    save_config(config, out)
    return out


def _command(config: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lexitune.cli", "run", str(config), "--out", str(out), *extra]


def _stage(run: Path) -> str:
    """Where a killed run was, from the files it had written."""
    if (run / "adapter").exists() or (run / "model").exists():
        return "after-evaluation"
    if list((run / "checkpoints").glob("step-*")) if (run / "checkpoints").exists() else []:
        return "training (after a checkpoint)"
    if (run / "train_log.jsonl").exists():
        return "training (before the first checkpoint)"
    if (run / "eval").exists():
        return "before-answers"
    return "generation / loading"


def _comparable(metrics: dict) -> dict:
    metrics = json.loads(json.dumps(metrics))
    metrics.pop("eval", None)  # evaluation timings
    for key in TIMING:
        metrics.get("train", {}).pop(key, None)
    return metrics


def kills(folder: Path, n: int = 10, seed: int = 0, config: Path | None = None) -> dict:
    from safetensors.torch import load_file

    config = config or kill_config(folder)
    straight = folder / "straight"
    start = time.perf_counter()
    subprocess.run(_command(config, straight), check=True, env=ENV, capture_output=True)
    duration = time.perf_counter() - start
    reference = load_file(straight / "adapter" / "adapter_model.safetensors")
    expected = _comparable(json.loads((straight / "metrics.json").read_text()))
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        # One moment in each n-th of the run, so every stage is hit: loading and generation, the
        # before-answers, training and its checkpoints, the after-evaluation.
        at = rng.uniform(i / n, (i + 1) / n) * duration * 0.97
        run = folder / f"killed-{i}"
        process = subprocess.Popen(_command(config, run), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(at)
        stage = _stage(run) if process.poll() is None else "finished before the kill"
        process.send_signal(signal.SIGKILL)
        process.wait()
        resumed = subprocess.run(_command(config, run, "--resume"), env=ENV, capture_output=True, text=True)
        row = {"kill_at_s": round(at, 1), "stage": stage, "resume_rc": resumed.returncode}
        if resumed.returncode == 0:
            weights = load_file(run / "adapter" / "adapter_model.safetensors")
            row["max_abs_diff"] = max((weights[k] - reference[k]).abs().max().item() for k in reference)
            row["metrics_equal"] = _comparable(json.loads((run / "metrics.json").read_text())) == expected
        else:
            row["error"] = resumed.stderr.strip().splitlines()[-1:] or [""]
        row["identical"] = bool(row.get("metrics_equal")) and row.get("max_abs_diff", 1.0) <= 1e-6
        rows.append(row)
        print(f"kill {i}: {row}", flush=True)
    before = (straight / "metrics.json").read_bytes()
    again = subprocess.run(_command(config, straight), env=ENV, capture_output=True, text=True)
    kept = again.returncode == 2 and (straight / "metrics.json").read_bytes() == before
    return {
        "uninterrupted_s": round(duration, 1),
        "kills": rows,
        "identical": sum(r["identical"] for r in rows),
        "finished_run_kept": kept,
    }


# --- generation faults ---------------------------------------------------------------------------

FAULT_KINDS = ["429", "500", "timeout", "drop", "prose", "schema", "python", "roles", "missing_definition"]


def faults(folder: Path, rates=(0.1, 0.3, 0.6), terms: int = 15, seed: int = 0, repeats: int = 1) -> dict:
    """Each rate `repeats` times with other draws (fresh caches): more requests, more faults met."""
    out = {}
    for rate in rates:
        rows = [_faults_once(folder / f"r{i}", rate, terms, seed + i) for i in range(repeats)]
        merged = {key: sum(r[key] for r in rows) for key in ("terms", "kept", "failed", "lost_silently", "requests")}
        merged["seconds"] = round(sum(r["seconds"] for r in rows), 1)
        merged["draws"] = repeats
        merged["failure_reasons"] = sorted({x for r in rows for x in r["failure_reasons"]})
        merged["faults_injected"] = dict(sum((Counter(r["faults_injected"]) for r in rows), Counter()))
        out[str(rate)] = merged
        print(f"faults {rate}: {merged}", flush=True)
    return out


def _faults_once(folder: Path, rate: float, terms: int, seed: int) -> dict:
    from tests.fake_openai import FakeLLM, culinary

    from lexitune.config import load_config
    from lexitune.generate import generate_conversations
    from lexitune.glossary import load_from_config

    glossary = culinary(terms)
    example = load_config(ROOT / "examples" / "culinary-fr" / "lexitune.yaml")
    all_terms = [t for t in load_from_config(example.glossary) if t.term in glossary]
    rng = random.Random(seed)
    script = [rng.choice(FAULT_KINDS) if rng.random() < rate else "ok" for _ in range(2000)]
    with FakeLLM(glossary, timeout_sleep=1.5) as llm:
        llm.faults = {"*": list(script)}
        cfg = load_config(
            None,
            [
                "generate.language=fr",
                "generate.backend=openai",
                "generate.model=fake-writer",
                f"generate.base_url={llm.url}",
                f"generate.cache_dir={folder / f'cache-{rate}'}",
                "generate.timeout=1",
                "generate.backoff=0.01",
                "generate.max_retries=3",
                "generate.conversations_per_term=4",
            ],
        ).generate
        report: dict = {}
        started = time.perf_counter()
        train, test = generate_conversations(all_terms, cfg, seed, report=report)
        seconds = time.perf_counter() - started
        injected = Counter(r["fault"] for r in llm.received() if r["fault"] != "ok")
        requests = len(llm.received())
    written = {c.term for c in train + test if c.style.startswith("llm.")}
    failed = {f["term"]: ", ".join(sorted(f.get("dropped") or {})) or "no reply" for f in report.get("failures", [])}
    lost = [t.term for t in all_terms if t.term not in written and t.term not in failed]
    return {
        "terms": len(all_terms),
        "kept": len(written),
        "failed": len(failed),
        "lost_silently": len(lost),
        "failure_reasons": sorted(set(failed.values())),
        "requests": requests,
        "faults_injected": dict(injected),
        "seconds": round(seconds, 1),
    }


# --- fuzzing -------------------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fuzz(folder: Path, examples: int = 300, seed: int = 0) -> dict:
    """Mangled files through every loader and random --set overrides, in this process."""
    from tests.glossary.test_hostile import HOSTILE, SAMPLES

    from lexitune.config import load_config
    from lexitune.errors import LexituneError
    from lexitune.glossary import load_glossary

    rng = random.Random(seed)
    tried, crashes, worst_s = 0, [], 0.0

    def attempt(label: str, call) -> None:
        nonlocal tried, worst_s
        tried += 1
        start = time.perf_counter()
        try:
            call()
        except LexituneError:
            pass
        except Exception as e:  # anything else is a crash: a traceback for the user
            crashes.append(f"{label}: {type(e).__name__}: {str(e)[:120]}")
        worst_s = max(worst_s, time.perf_counter() - start)

    for ext, sample in SAMPLES.items():
        for i in range(examples):
            data = _mangle_bytes(sample, rng)
            path = folder / f"fuzz-{i}.{ext}"
            path.write_bytes(data)
            attempt(f"{ext} #{i}", lambda p=path: load_glossary(p))
    for name, text in HOSTILE.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        attempt(name, lambda p=path: load_glossary(p))
    keys = [
        "train.epochs",
        "train.learning_rate",
        "train.max_steps",
        "train.lora.r",
        "eval.limit",
        "name",
        "generate.negatives",
        "model.route",
        "seed",
        "recipe",
        "train.threads",
        "nope.key",
        "train",
    ]
    values = [
        "-1",
        "0",
        "1e308",
        ".inf",
        ".nan",
        "[1, 2",
        "{a: 1}",
        "null",
        "~",
        "'x'",
        "../x",
        "9" * 5000,
        "&a [*a]",
        "ü\x00",
        "true",
        "lora",
        "[" * 5000,
    ]
    for _ in range(examples * 2):
        override = f"{rng.choice(keys)}={rng.choice(values)}"
        attempt(f"--set {override[:60]}", lambda o=override: load_config(None, [o]))
    limits = {}
    for ext in ("csv", "json", "jsonl", "yaml", "xml", "rdf", "ttl"):
        path = folder / f"one-mb.{ext}"
        path.write_bytes(_one_megabyte(ext))
        done = subprocess.run([sys.executable, "-c", LOAD_PROBE, str(path)], env=ENV, capture_output=True, text=True)
        if done.returncode == 0:
            n, seconds, mb = done.stdout.split()
            limits[ext] = {
                "bytes": path.stat().st_size,
                "terms": int(n),
                "seconds": round(float(seconds), 2),
                "peak_mb": round(float(mb)),
            }
        else:
            limits[ext] = {"error": done.stderr.strip().splitlines()[-1:]}
    return {
        "inputs": tried,
        "crashes": len(crashes),
        "crash_examples": crashes[:10],
        "worst_seconds": round(worst_s, 2),
        "peak_mb": round(_peak_mb()),
        "one_megabyte": limits,
    }


def scaling(folder: Path, sizes=(1, 4, 16)) -> dict:
    """Load time and peak memory of CSV and JSONL glossaries of growing size, each in a fresh
    process: beyond 1 MB they must grow linearly."""
    out: dict = {}
    for ext in ("csv", "jsonl"):
        for mb in sizes:
            path = folder / f"scale-{mb}mb.{ext}"
            one = _one_megabyte(ext)
            if ext == "csv":
                header, body = one.split(b"\n", 1)
                path.write_bytes(header + b"\n" + b"".join(_renamed(body, k) for k in range(mb)))
            else:
                path.write_bytes(b"".join(_renamed(one, k) for k in range(mb)))
            done = subprocess.run(
                [sys.executable, "-c", LOAD_PROBE, str(path)], env=ENV, capture_output=True, text=True
            )
            n, seconds, peak = done.stdout.split()
            out[f"{ext} {mb} MB"] = {
                "terms": int(n),
                "seconds": round(float(seconds), 2),
                "peak_mb": round(float(peak)),
            }
            print("scaling", ext, mb, out[f"{ext} {mb} MB"], flush=True)
    return out


def _renamed(block: bytes, k: int) -> bytes:
    """The 1 MB block with its terms renamed (T00001 -> T00001x3), so copies are not duplicates."""
    return block if k == 0 else re.sub(rb"T(\d{5})", lambda m: b"T" + m[1] + b"x%d" % k, block)


def _mangle_bytes(sample: bytes, rng: random.Random) -> bytes:
    how = rng.choice(["bytes", "cut", "splice", "utf16", "latin1", "nul", "bom", "repeat", "deep"])
    if how == "bytes":
        return rng.randbytes(rng.randint(0, 400))
    if how == "cut":
        return sample[: rng.randint(0, len(sample))]
    if how == "splice":
        at = rng.randint(0, len(sample))
        return sample[:at] + rng.randbytes(rng.randint(1, 40)) + sample[at:]
    if how == "utf16":
        return sample.decode("utf-8").encode("utf-16")
    if how == "latin1":
        return sample.decode("utf-8").encode("latin-1", errors="replace") + b"\xe9"
    if how == "nul":
        at = rng.randint(0, len(sample))
        return sample[:at] + b"\x00" + sample[at:]
    if how == "repeat":  # a 10 MB field
        return sample.replace(b"Techniques", b"T" * 10_000_000, 1)
    if how == "deep":
        return b"[" * 50_000 + sample + b"]" * 50_000
    return b"\xef\xbb\xbf" + sample


def _one_megabyte(ext: str) -> bytes:
    n = 12_000
    rows = [(f"T{i:05d}", f"Definition number {i} of a term in a large glossary") for i in range(n)]
    if ext == "csv":
        return ("term,definition\n" + "".join(f"{t},{d}\n" for t, d in rows)).encode()
    if ext == "json":
        return json.dumps([{"acronym": t, "definition": d} for t, d in rows]).encode()
    if ext == "jsonl":
        return "".join(json.dumps({"acronym": t, "definition": d}) + "\n" for t, d in rows).encode()
    if ext == "yaml":
        return "".join(f"- acronym: {t}\n  meaning: {d}\n" for t, d in rows).encode()
    if ext == "xml":
        return (
            "<glossary>"
            + "".join(f"<entry><term>{t}</term><definition>{d}</definition></entry>" for t, d in rows)
            + "</glossary>"
        ).encode()
    if ext == "rdf":
        body = "".join(
            f'<skos:Concept rdf:about="http://x/{t}"><skos:prefLabel>{t}</skos:prefLabel>'
            f"<skos:definition>{d}</skos:definition></skos:Concept>"
            for t, d in rows[:6000]
        )
        return (
            '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            f'xmlns:skos="http://www.w3.org/2004/02/skos/core#">{body}</rdf:RDF>'
        ).encode()
    return (
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        + "".join(
            f'<http://x/{t}> a skos:Concept ; skos:prefLabel "{t}" ; skos:definition "{d}" .\n' for t, d in rows[:7000]
        )
    ).encode()


# --- server ---------------------------------------------------------------------------------------


class Server:
    """The app of `lexitune serve` on a free loopback port, in a thread."""

    def __init__(self, app):
        import uvicorn

        from lexitune.serve.guard import uvicorn_config

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", self.port))

    def __enter__(self):
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}/v1"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)


def server(
    folder: Path, runs: dict[str, Path], requests: int = 512, clients: int = 16, fuzz_examples: int = 150
) -> dict:
    """Load on loopback with the official client; each reply checked against its adapter's own
    one-at-a-time answer (greedy) and its own glossary."""
    import openai
    from tests.serve.test_schema_fuzz import fuzz_server

    from lexitune.serve import AdapterRegistry, create_app

    registry = AdapterRegistry.from_runs(runs)
    questions = {}
    for name, run in runs.items():
        test = [json.loads(line) for line in (run / "data" / "test.jsonl").read_text().splitlines()]
        questions[name] = [
            (r["messages"][0]["content"], r["term"]) for r in test if r["style"].split(".")[0] in ("fr", "en")
        ]
    with Server(create_app(registry, api_key="sk-bench")) as base_url:
        url = base_url.removesuffix("/v1")
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="sk-bench", max_retries=0, timeout=600)

        def ask(name: str, question: str, stream: bool) -> str:
            messages = [{"role": "user", "content": question}]
            if stream:
                parts = client.chat.completions.create(model=name, messages=messages, max_tokens=24, stream=True)
                return "".join(c.choices[0].delta.content or "" for c in parts if c.choices)
            return (
                client.chat.completions.create(model=name, messages=messages, max_tokens=24).choices[0].message.content
            )

        # One at a time first: what each adapter answers to each question, alone.
        expected = {(n, q): ask(n, q, False) for n, qs in questions.items() for q, _ in qs}
        plan = [(n, q, i % 2 == 1) for i, (n, q) in enumerate(sorted(expected) * (requests // len(expected) + 1))][
            :requests
        ]
        random.Random(0).shuffle(plan)
        latencies, errors, wrong = [], [], []

        def one(item):
            name, question, stream = item
            start = time.perf_counter()
            try:
                text = ask(name, question, stream)
            except Exception as e:  # any error is counted, whatever it is
                errors.append(f"{type(e).__name__}: {e}")
                return
            latencies.append(time.perf_counter() - start)
            if text != expected[(name, question)]:
                wrong.append((name, question, text[:80]))

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(one, plan))
        wall = time.perf_counter() - started
        statuses = fuzz_server(url, examples=fuzz_examples, headers={"Authorization": "Bearer sk-bench"})
    latencies.sort()
    own = {}
    for name, run in runs.items():  # does each adapter answer its own glossary's questions with its definitions?
        glossary = {t["term"]: t["definition"] for t in json.loads((run / "data" / "glossary.json").read_text())}
        own[name] = sum(glossary[term].lower() in expected[(name, q)].lower() for q, term in questions[name]) / len(
            questions[name]
        )
    return {
        "requests": len(plan),
        "clients": clients,
        "errors": len(errors),
        "error_examples": errors[:5],
        "different_from_alone": len(wrong),
        "different_examples": wrong[:5],
        "own_glossary_recall": own,
        "p50_s": round(latencies[len(latencies) // 2], 3) if latencies else None,
        "p99_s": round(latencies[int(len(latencies) * 0.99) - 1], 3) if latencies else None,
        "requests_per_s": round(len(latencies) / wall, 2),
        "schemathesis_requests": statuses.total(),
        "schemathesis_5xx": sum(v for k, v in statuses.items() if k >= 500),
        "schemathesis_statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


# --- report --------------------------------------------------------------------------------------


def machine() -> str:
    """The CPU's model name and core count, as /proc/cpuinfo gives them."""
    try:
        names = [line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")]
    except OSError:
        names = []
    return f"{names[0] if names else platform.machine()}, {os.cpu_count()} cores"


def write_report(results: dict) -> None:
    lines = [
        "# Reliability",
        "",
        "Written by `python bench/reliability.py` from `bench/reliability.json`; do not edit by hand. "
        f"Machine: {machine()}. "
        "Each part is also a test in the suite at a smaller size (see docs/development.md).",
        "",
    ]
    if k := results.get("kills"):
        lines += [
            "## Training faults: SIGKILL, then `--resume`",
            "",
            f"`lexitune run` (shipped model, 3 culinary terms, fp32, a checkpoint every 3 steps) killed at "
            f"{len(k['kills'])} random moments of its {k['uninterrupted_s']} s, one in each tenth of the run; "
            "each resumed with `--resume`.",
            "",
            f"- **identical to the uninterrupted run: {k['identical']} of {len(k['kills'])}** "
            "(adapter max abs difference ≤ 1e-6 and the same metrics.json, timing fields aside)",
            f"- a finished run run again without `--resume`: {'refused, metrics.json unchanged' if k['finished_run_kept'] else '**overwritten**'}",
            "",
            "| kill at (s) | stage | resume exit | max abs diff | metrics equal |",
            "|---|---|---|---|---|",
        ]
        for r in k["kills"]:
            diff = f"{r['max_abs_diff']:.1e}" if "max_abs_diff" in r else "—"
            lines.append(
                f"| {r['kill_at_s']} | {r['stage']} | {r['resume_rc']} | {diff} | {r.get('metrics_equal', '—')} |"
            )
        lines.append("")
    if f := results.get("faults"):
        first = next(iter(f.values()))
        lines += [
            "## Generation faults",
            "",
            f"The culinary glossary ({first['terms'] // first.get('draws', 1)} terms, {first.get('draws', 1)} draws with "
            "other faults each, summed below) written by the scripted OpenAI-compatible server "
            "(tests/fake_openai.py) with a share of its replies faulty: "
            + ", ".join(FAULT_KINDS)
            + ". Timeout 1 s, 3 retries.",
            "",
            "| fault rate | terms | kept (LLM conversations) | failed, named with reason | **lost silently** | requests | seconds |",
            "|---|---|---|---|---|---|---|",
        ]
        for rate, r in f.items():
            lines.append(
                f"| {float(rate):.0%} | {r['terms']} | {r['kept']} | {r['failed']} | **{r['lost_silently']}** | {r['requests']} | {r['seconds']} |"
            )
        reasons = sorted({x for r in f.values() for x in r["failure_reasons"]})
        lines += ["", "Failure reasons seen: " + ("; ".join(reasons) if reasons else "none"), ""]
    if z := results.get("fuzz"):
        lines += [
            "## Hostile and broken input",
            "",
            f"- **{z['inputs']} inputs tried, {z['crashes']} crashes** (anything but a one-line LexituneError); "
            f"worst time for one input {z['worst_seconds']} s; the fuzzing process peaked at {z['peak_mb']} MB.",
            "- Inputs: random bytes, cut and spliced files, UTF-16 and Latin-1, NUL bytes, BOMs, a 10 MB field, "
            "50,000-deep nesting in every format; YAML alias bombs and recursive aliases, RDF/XML and XML billion "
            "laughs, external entities (XXE), 5,000-digit numbers; random `--set` overrides (infinite, negative, "
            "malformed, recursive YAML, paths in `name`).",
            "",
            "1 MB glossaries, each loaded in a fresh process:",
            "",
            "| format | terms | seconds | peak MB |",
            "|---|---|---|---|",
        ]
        for ext, r in z["one_megabyte"].items():
            lines.append(
                f"| {ext} | {r.get('terms', '—')} | {r.get('seconds', r.get('error'))} | {r.get('peak_mb', '—')} |"
            )
        if sc := results.get("scaling"):
            lines += [
                "",
                "Larger glossaries (the 1 MB file repeated with renamed terms), each in a fresh process:",
                "",
                "| file | terms | seconds | peak MB |",
                "|---|---|---|---|",
                *[f"| {k} | {r['terms']} | {r['seconds']} | {r['peak_mb']} |" for k, r in sc.items()],
            ]
        if z["crash_examples"]:
            lines += ["", "Crashes:", *[f"- {c}" for c in z["crash_examples"]]]
        lines.append("")
    if s := results.get("server"):
        lines += [
            "## The server under load and attack",
            "",
            f"`lexitune serve`'s app with two adapters (culinary-fr and invented-en, 3 terms each, shipped model), "
            f"{s['clients']} concurrent clients with the official openai client, {s['requests']} requests, half "
            "streamed, 24-token answers.",
            "",
            f"- **errors: {s['errors']}**; **answers unlike the same adapter's answer alone: {s['different_from_alone']}** "
            "(greedy: each reply is compared with what that adapter answers one request at a time)",
            "- each adapter answering its own glossary (definition in the answer): "
            + ", ".join(f"{k} {v:.2f}" for k, v in s["own_glossary_recall"].items()),
            f"- latency p50 {s['p50_s']} s, p99 {s['p99_s']} s; throughput {s['requests_per_s']} requests/s "
            "(batched decoding: bench/SERVE.md compares it with one request at a time)",
            f"- schemathesis: **{s['schemathesis_requests']} generated requests, {s['schemathesis_5xx']} with a 5xx**; "
            f"statuses {s['schemathesis_statuses']}",
            "- limits (tests/serve/test_hostile.py): body ≤ 1 MB (413, also for bodies without a length), ≤ 512 "
            "messages, ≤ 4 stop strings of ≤ 256 characters, a seed within torch's range, text longer than the "
            "context could hold refused before tokenising; the key is checked before the body is read, on every "
            "route but `/health`, which answers only `ok`; a request head not complete in 10 s or a body not "
            "complete in 30 s closes the connection; a `model` is only looked up among the served names.",
            "",
        ]
    OUT_MD.write_text("\n".join(lines), encoding="utf-8")


def _train_adapters(folder: Path) -> dict[str, Path]:
    runs = {}
    for name, glossary in (("culinary", "culinary-fr"), ("invented", "invented-en")):
        out = folder / f"adapter-{name}"
        if not (out / "metrics.json").exists():
            config = kill_config(folder, glossary)
            subprocess.run(_command(config, out), check=True, env=ENV, capture_output=True)
        runs[name] = out
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=["kills", "faults", "fuzz", "scaling", "server"])
    parser.add_argument("--quick", action="store_true", help="the test suite's sizes")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--report", action="store_true", help="only rewrite docs/RELIABILITY.md from the results")
    args = parser.parse_args()
    if args.report:
        write_report(json.loads(RESULTS.read_text()))
        return
    parts = args.only or ["fuzz", "scaling", "faults", "kills", "server"]
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    work = args.work or Path(tempfile.mkdtemp(prefix="lexitune-reliability-"))
    work.mkdir(parents=True, exist_ok=True)
    for part in parts:
        folder = work / part
        folder.mkdir(exist_ok=True)
        print(f"== {part}", flush=True)
        if part == "kills":
            results["kills"] = kills(folder, n=2 if args.quick else 10)
        elif part == "faults":
            results["faults"] = faults(folder, terms=4 if args.quick else 15, repeats=1 if args.quick else 5)
        elif part == "fuzz":
            results["fuzz"] = fuzz(folder, examples=20 if args.quick else 300)
        elif part == "scaling":
            results["scaling"] = scaling(folder, sizes=(1, 2) if args.quick else (1, 4, 16))
        elif part == "server":
            runs = _train_adapters(work / "adapters")
            results["server"] = server(
                folder, runs, requests=64 if args.quick else 512, fuzz_examples=20 if args.quick else 150
            )
        RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
        write_report(results)
    print(f"written: {OUT_MD}")


if __name__ == "__main__":
    main()
