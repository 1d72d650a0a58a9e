"""The reliability bench's parts at the suite's sizes (bench/reliability.py runs the long ones):
generation under injected faults loses no term silently; the server under concurrent load makes no
error and mixes no adapters up
(tests/serve/test_load.py)."""

from __future__ import annotations

import pytest

from tests.conftest import load_bench


@pytest.fixture(scope="module")
def reliability():
    return load_bench("reliability")


def test_no_term_is_lost_silently_under_generation_faults(reliability, tmp_path):
    results = reliability.faults(tmp_path, rates=(0.3, 0.6), terms=8, seed=1)
    assert sum(sum(r["faults_injected"].values()) for r in results.values()) >= 3  # faults were really met
    for rate, r in results.items():
        assert r["lost_silently"] == 0, (rate, r)
        assert r["kept"] + r["failed"] == r["terms"]


def test_a_killed_generation_resumes_without_repeating_an_answered_request(tmp_path):
    """SIGKILL `lexitune generate` while its fifth request hangs; the rerun must not send again any
    request the server already answered (each reply is cached as it arrives)."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    from collections import Counter

    from lexitune.config import load_config, save_config
    from tests.conftest import ROOT, culinary_glossary
    from tests.fake_openai import FakeLLM, culinary

    glossary = culinary_glossary(tmp_path, 8)
    with FakeLLM(culinary(8)) as llm:
        llm.faults = {"*": ["ok"] * 4 + ["hang"]}
        config = load_config(
            None,
            [
                f"glossary.path={glossary}",
                "generate.language=fr",
                "generate.backend=openai",
                "generate.model=fake-writer",
                f"generate.base_url={llm.url}",
                f"generate.cache_dir={tmp_path / 'cache'}",
                "generate.concurrency=1",
                "generate.timeout=120",
                "tracking=none",
            ],
        )
        path = tmp_path / "c.yaml"
        save_config(config, path)
        command = [sys.executable, "-m", "lexitune.cli", "generate", str(path), "--out", str(tmp_path / "run")]
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not any(r["fault"] == "hang" for r in llm.received()) and time.monotonic() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert len(llm.answered()) == 4 and not (tmp_path / "run" / "data" / "train.jsonl").exists()
        rerun = subprocess.run(command, env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        answered = Counter(json.dumps(r["body"], sort_keys=True) for r in llm.answered())
    assert len(answered) >= 8 and max(answered.values()) == 1  # every term asked; none answered twice
