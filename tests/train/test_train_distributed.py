"""Two CPU processes under `accelerate launch` (gloo) train exactly what one process trains."""

import json
import subprocess
import sys
from pathlib import Path

import torch

WORKER = Path(__file__).with_name("ddp_worker.py")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_two_processes_match_one(tiny_model_dir, tmp_path):
    terms = json.loads((EXAMPLES / "culinary-fr" / "glossary.json").read_text(encoding="utf-8"))[:3]
    glossary = tmp_path / "glossary.json"
    glossary.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    args = [str(tiny_model_dir), str(glossary)]
    single, double = tmp_path / "one" / "w.pt", tmp_path / "two" / "w.pt"
    subprocess.run([sys.executable, str(WORKER), *args, str(single)], check=True, timeout=300)
    launch = [
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
    subprocess.run([*launch, str(WORKER), *args, str(double)], check=True, timeout=300)
    one, two = torch.load(single), torch.load(double)
    assert one["tokens"] == two["tokens"] > 0
    assert abs(one["loss"] - two["loss"]) < 1e-3 * abs(one["loss"])
    moved = [k for k, v in one["weights"].items() if "lora_B" in k and v.abs().max() > 0]
    assert moved, "training did not change the adapter"
    for name, weight in one["weights"].items():
        torch.testing.assert_close(two["weights"][name], weight, rtol=1e-3, atol=1e-5, msg=name)
