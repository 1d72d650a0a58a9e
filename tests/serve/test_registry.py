"""Start-up checks of the adapter registry: one base model, valid names, real adapters."""

from __future__ import annotations

import shutil

import pytest

from lexitune.errors import LexituneError
from lexitune.serve import AdapterRegistry


def test_adapters_on_different_bases_are_refused(trained_run, tmp_path):
    from lexitune.config import load_config, save_config

    other = tmp_path / "other"
    shutil.copytree(trained_run, other)
    save_config(
        load_config(other / "config.yaml", ["model.name=HuggingFaceTB/SmolLM2-360M-Instruct"]), other / "config.yaml"
    )
    with pytest.raises(LexituneError, match="differs"):
        AdapterRegistry.from_runs({"a": trained_run, "b": other})


@pytest.mark.parametrize("name", ["base", "../x", "a b", ""])
def test_bad_adapter_names_are_refused(trained_run, name):
    with pytest.raises(LexituneError, match="names are"):
        AdapterRegistry.from_runs({name: trained_run})


def test_a_folder_that_is_not_a_run_is_refused(tmp_path):
    with pytest.raises(LexituneError, match="not a lexitune run folder"):
        AdapterRegistry.from_runs({"a": tmp_path})
