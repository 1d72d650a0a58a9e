"""`lexitune push`: the dry-run folder is a complete, valid model repo; the upload reaches a (local) Hub."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lexitune.cli import app


@pytest.fixture(scope="module")
def dry_run(tuned_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("push") / "repo"
    result = CliRunner().invoke(
        app, ["push", str(tuned_run), "--repo", "me/tiny-culinary", "--dry-run", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out, result.output


def test_dry_run_writes_a_complete_adapter_repo(dry_run):
    from peft import PeftConfig

    out, output = dry_run
    files = {p.name for p in out.iterdir()}
    assert {"README.md", "metrics.json", "adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} <= files
    assert "glossary.json" not in files  # only with --include-data
    assert "adapter_model.safetensors" in output
    PeftConfig.from_pretrained(out)


def test_model_card_parses_with_the_right_metadata(dry_run, tuned_run):
    from huggingface_hub import ModelCard

    out, _ = dry_run
    card = ModelCard.load(out / "README.md")
    assert card.data.library_name == "peft" and card.data.license == "other"  # tiny local base: no known licence
    assert card.data.language == ["fr"] and card.data.pipeline_tag == "text-generation"
    assert {"lexitune", "glossary", "peft", "lora"} <= set(card.data.tags)
    assert card.data.base_model is None  # a local folder is not a Hub id
    metrics = json.loads((tuned_run / "metrics.json").read_text())
    assert "| exact_recall | 0.00 | 0.00 |" in card.text or f"{metrics['after']['exact_recall']:.2f} |" in card.text
    assert "4 terms" in card.text and "PeftModel.from_pretrained" in card.text and "ollama create" in card.text
    assert "Tu es l'assistant" in card.text  # the system prompt users must send


def test_card_for_the_default_model_names_it_and_its_licence(tuned_run, tmp_path):
    import shutil

    from lexitune.config import load_config, save_config
    from lexitune.export.card import model_card
    from lexitune.rundir import RunDir

    run = tmp_path / "run"
    shutil.copytree(tuned_run, run)
    config = load_config(run / "config.yaml", ["model.name=default", "share.tags=[cooking]"])
    save_config(config, run / "config.yaml")
    card = model_card(RunDir(run), "me/x", "merged", include_data=True)
    assert card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct" and card.data.license == "apache-2.0"
    assert card.data.library_name == "transformers" and "cooking" in card.data.tags
    assert "glossary.json" in card.text


def test_push_creates_a_private_repo_and_uploads_every_file(tuned_run, tmp_path, live_server, monkeypatch):
    from tests.export.fake_hub import fake_hub

    hub, state = fake_hub(token="hf_test")
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    with live_server(hub) as server:
        out = tmp_path / "repo"
        result = CliRunner().invoke(
            app,
            [
                "push",
                str(tuned_run),
                "--repo",
                "me/tiny-culinary",
                "--private",
                "--include-data",
                "--endpoint",
                server.url,
                "--out",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        monkeypatch.setenv("HF_TOKEN", "hf_wrong")
        denied = CliRunner().invoke(app, ["push", str(tuned_run), "--repo", "me/other", "--endpoint", server.url])
    assert state["repos"]["me/tiny-culinary"]["visibility"] == "private"
    uploaded = {path: data for (repo, path), data in state["files"].items() if repo == "me/tiny-culinary"}
    local = {p.name: p.read_bytes() for p in out.iterdir()}
    assert uploaded == local and "glossary.json" in uploaded and "README.md" in uploaded
    assert len(state["commits"]) == 1 and "pushed" in result.output
    assert denied.exit_code != 0 and "me/other" not in state["repos"]
