"""Our adapter_config.json against vLLM's and SGLang's documented constraints (serving issue,
part 7): LoRA exports pass; DoRA is named as not servable there, by the export itself."""

from __future__ import annotations

import json

import pytest

from lexitune.export.compat import adapter_notes, serving_notes


def test_a_lora_run_meets_vllm_and_sglang_constraints(trained_run):
    config = json.loads((trained_run / "adapter" / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and not config.get("use_dora") and not config.get("modules_to_save")
    assert config["bias"] == "none" and config["r"] <= 16  # vLLM's default --max-lora-rank
    assert adapter_notes(trained_run / "adapter") == []


@pytest.mark.parametrize(
    "change, fragment",
    [
        ({"use_dora": True}, "do not serve DoRA"),
        ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
        ({"target_modules": ["model.layers.0.self_attn.q_proj", "lm_head"]}, "['lm_head']"),
        ({"r": 64}, "--max-lora-rank 64"),
        ({"r": 1024}, "up to 512"),
        ({"bias": "lora_only"}, "--enable-lora-bias"),
    ],
)
def test_what_vllm_or_sglang_cannot_serve_is_named(change, fragment):
    base = {"r": 16, "target_modules": ["q_proj", "v_proj"], "bias": "none"}
    [note] = serving_notes({**base, **change})
    assert fragment in note


def test_the_export_of_a_dora_adapter_says_so(trained_run, tmp_path):
    import shutil

    from tests.test_cli import lexitune

    run = tmp_path / "dora"
    shutil.copytree(trained_run, run)
    path = run / "adapter" / "adapter_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "use_dora": True}))
    result = lexitune("export", run, "--format", "adapter", "--out", tmp_path / "out")
    assert result.returncode == 0 and "do not serve DoRA" in result.stdout + result.stderr
