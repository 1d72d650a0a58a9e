"""The benchmark's quick mode runs end to end (tiny model, two terms): a smoke test, no timing asserts."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "train_vs_trl.py"


@pytest.mark.slow
def test_quick_benchmark_writes_its_report(tiny_model_dir, tmp_path):
    out = tmp_path / "RESULTS.md"
    subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--quick",
            "--model",
            str(tiny_model_dir),
            "--terms",
            "2",
            "--epochs",
            "1",
            "--generation",
            "2",
            "--no-ablation",
            "--out",
            str(out),
        ],
        check=True,
        timeout=600,
    )
    text = out.read_text()
    import torch

    from lexitune.train.precision import choose_precision

    # The precision this machine's CPU gets (bf16 where it is native, else fp32), named exactly.
    chosen = choose_precision("auto", torch.device("cpu")).name
    for row in [f"| lexitune | {chosen} |", "| TRL SFTTrainer |", "Speed-up:", "| computed:", "| batched (64) greedy"]:
        assert row in text, f"report lacks {row!r}"
    assert "2/2 |" in text, "batched and one-at-a-time generation must give the same answers"
