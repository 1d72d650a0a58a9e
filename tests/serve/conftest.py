"""A live server on 127.0.0.1 with two adapters on the tiny base model, for the whole module."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def served_runs(trained_run, tmp_path_factory, perturbed_copy) -> dict[str, Path]:
    """Two adapters that answer unlike each other and unlike the base (a few training steps of the tiny
    model barely move its greedy answers), so a test that mixed them up would see it."""
    root = tmp_path_factory.mktemp("served")
    return {
        "culinary": perturbed_copy(trained_run, root / "culinary", scale=4.0),
        "other": perturbed_copy(trained_run, root / "other", scale=-4.0),
    }


@pytest.fixture(scope="session")
def registry(served_runs):
    from lexitune.serve import AdapterRegistry

    return AdapterRegistry.from_runs(served_runs)


@pytest.fixture(scope="session")
def live(registry, live_server):
    from lexitune.serve import create_app

    with live_server(create_app(registry, api_key="sk-test-key")) as server:
        yield server


@pytest.fixture(scope="session")
def canned_run(trained_run, canned_model, tmp_path_factory) -> Path:
    """A copy of `trained_run` whose base model is `canned_model`: a served model that gives
    CANNED_ANSWER and ends its turn, so end-of-turn paths and exact replies can be checked."""
    import shutil

    import yaml

    run = tmp_path_factory.mktemp("canned-run") / "run"
    shutil.copytree(trained_run, run)
    config = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    config["model"]["name"] = str(canned_model)
    (run / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return run
