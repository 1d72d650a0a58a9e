"""Every training method through train, eval and export; a killed `lexitune run` resumed to the same weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from lexitune.config import load_config, save_config
from lexitune.errors import LexituneError
from lexitune.rundir import RunDir

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "method, preference",
    [("lora", "none"), ("dora", "none"), ("full", "none"), ("qlora", "none"), ("lora", "dpo"), ("full", "orpo")],
)
def test_each_method_trains_evaluates_exports_and_serves(method, preference, tiny_config, tmp_path, live_server):
    import openai
    from transformers import AutoModelForCausalLM

    from lexitune.evaluate.stage import evaluate_run
    from lexitune.export import export_run
    from lexitune.inference import Answerer, load_terms, load_trained
    from lexitune.pipeline import run_pipeline
    from lexitune.serve import AdapterRegistry, create_app

    tiny_config.train.method = method
    tiny_config.train.preference = preference
    tiny_config.train.max_steps = 2
    tiny_config.eval.unknown_terms = 2
    metrics = run_pipeline(tiny_config, tmp_path / "run")
    run = RunDir(tmp_path / "run")
    assert metrics["method"] == method and metrics["train"]["steps"] == 2
    assert metrics["preference"] == preference
    if preference != "none":
        assert metrics["train"]["preference"]["pairs"] > 0 and metrics["train"]["preference"]["steps"] >= 1
    again = evaluate_run(load_config(run.config), run, Console(quiet=True))
    assert again["before"] == metrics["before"] and again["after"] == metrics["after"]
    merged = export_run(run.root, "merged", tmp_path / "merged")
    model = AutoModelForCausalLM.from_pretrained(merged)
    assert model.config.num_hidden_layers == 2
    (gguf,) = export_run(run.root, "gguf", tmp_path / "gguf").glob("*.gguf")
    assert gguf.stat().st_size > 0
    # Served behind the OpenAI-compatible API (a full fine-tune alone: it is a model of its own),
    # answering as the run's own weights do.
    question = [{"role": "user", "content": "Que veut dire TEC ?"}]
    # QLoRA is served on the full-precision base, as its merged export holds it.
    model, tokenizer, config = load_trained(run, full_precision=method == "qlora")
    expected = Answerer.tuned(model, tokenizer, config, load_terms(run)).stream(question, lambda _: None)
    with live_server(create_app(AdapterRegistry.from_runs({"culinary": run.root}))) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)
        assert [m.id for m in client.models.list().data] == (["culinary"] if method == "full" else ["base", "culinary"])
        reply = client.chat.completions.create(
            model="culinary", messages=question, max_tokens=config.eval.max_new_tokens, temperature=0
        )
    assert reply.choices[0].message.content.strip() == expected.strip()


def test_selection_and_early_stopping_cannot_both_keep_the_best_weights():
    with pytest.raises(LexituneError, match="both keep the best weights: choose one"):
        load_config(None, ["experimental.select=true", "train.early_stopping_patience=2", "eval.curve_every=2"])


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_adapter_and_metrics(tiny_config, tmp_path):
    """SIGKILL a whole `lexitune run` after a checkpoint, `--resume` it: in fp32 the adapter and the
    metrics equal an uninterrupted run's (timing aside)."""
    from safetensors.torch import load_file

    tiny_config.train.precision = "fp32"
    tiny_config.train.max_steps = 40
    tiny_config.train.save_every = 4
    tiny_config.train.threads = 1
    config = tmp_path / "c.yaml"
    save_config(tiny_config, config)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}

    def command(out: Path, *extra: str) -> list[str]:
        return [sys.executable, "-m", "lexitune.cli", "run", str(config), "--out", str(out), *extra]

    subprocess.run(command(tmp_path / "straight"), check=True, env=env, capture_output=True)
    killed = subprocess.Popen(
        command(tmp_path / "killed"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    marker = tmp_path / "killed" / "checkpoints" / "step-000008" / "state.json"
    deadline = time.monotonic() + 300
    while not marker.exists() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert not (tmp_path / "killed" / "metrics.json").exists(), "the run finished before it was killed"
    resumed = subprocess.run(command(tmp_path / "killed", "--resume"), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    a = load_file(tmp_path / "straight" / "adapter" / "adapter_model.safetensors")
    b = load_file(tmp_path / "killed" / "adapter" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and max((a[k] - b[k]).abs().max().item() for k in a) <= 1e-6
    m1, m2 = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("straight", "killed"))
    if sys.platform == "linux":  # the program re-executed itself on mimalloc (lexitune/allocator.py)
        assert m1["train"]["allocator"] == m2["train"]["allocator"] == "mimalloc"
    for m in (m1, m2):
        m.pop("eval")
        for key in ("seconds", "tokens_per_second", "resumed_from_step"):
            m["train"].pop(key)
    assert m1 == m2
    assert json.loads((tmp_path / "killed" / "train.json").read_text())["resumed_from_step"] >= 8
