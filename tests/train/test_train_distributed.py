"""Two CPU processes under `accelerate launch` (gloo) train exactly what one process trains."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import culinary_glossary

WORKER = Path(__file__).with_name("ddp_worker.py")
# Two CPU processes (gloo), no mixed precision or compilation: the same numbers as one process.
LAUNCH = [
    sys.executable,
    "-m",
    "accelerate.commands.launch",
    "--cpu",
    "--num_processes",
    "2",
    "--num_machines",
    "1",
    "--mixed_precision",
    "no",
    "--dynamo_backend",
    "no",
]


@pytest.mark.slow
def test_two_processes_match_one(tiny_model_dir, tmp_path):
    glossary = culinary_glossary(tmp_path, 3)
    args = [str(tiny_model_dir), str(glossary)]
    single, double = tmp_path / "one" / "w.pt", tmp_path / "two" / "w.pt"
    subprocess.run([sys.executable, str(WORKER), *args, str(single)], check=True, timeout=300)
    subprocess.run([*LAUNCH, str(WORKER), *args, str(double)], check=True, timeout=300)
    one, two = torch.load(single), torch.load(double)
    assert one["tokens"] == two["tokens"] > 0
    assert abs(one["loss"] - two["loss"]) < 1e-3 * abs(one["loss"])
    moved = [k for k, v in one["weights"].items() if "lora_B" in k and v.abs().max() > 0]
    assert moved, "training did not change the adapter"
    for name, weight in one["weights"].items():
        torch.testing.assert_close(two["weights"][name], weight, rtol=1e-3, atol=1e-5, msg=name)


@pytest.mark.slow
def test_the_train_command_runs_under_accelerate_launch(tiny_model_dir, tmp_path):
    """As the README shows it: every process trains, only the main one writes the run folder once."""
    culinary_glossary(tmp_path, 3, "g.json")
    (tmp_path / "c.yaml").write_text(
        "glossary: {path: g.json}\ngenerate: {language: fr}\n"
        f"model: {{name: {tiny_model_dir}}}\ntrain: {{max_steps: 2, batch_size: 4}}\n"
        "eval: {max_new_tokens: 4, embedding_model: none, probe_limit: 2, unknown_terms: 1}\n"
        "tracking: {backend: none}\n"
    )
    out = tmp_path / "run"
    result = subprocess.run(
        [*LAUNCH, "-m", "lexitune.cli", "train", str(tmp_path / "c.yaml"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (out / "adapter" / "adapter_model.safetensors").exists()
    assert json.loads((out / "train.json").read_text())["steps"] == 2
    steps = [json.loads(line)["step"] for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert steps == [1, 2]  # one log, written once
