"""QLoRA where bitsandbytes cannot run: one clear line before any work (it runs here: the end to
end test in tests/test_methods_end_to_end.py trains, evaluates, exports and serves it on CPU)."""

from __future__ import annotations

import sys
import types

import pytest

from lexitune.errors import LexituneError


def test_without_bitsandbytes_a_qlora_run_stops_before_any_work(tiny_config, tmp_path, monkeypatch):
    from lexitune.pipeline import run_pipeline

    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # import fails as if not installed
    tiny_config.train.method = "qlora"
    with pytest.raises(LexituneError, match="needs bitsandbytes"):
        run_pipeline(tiny_config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_bitsandbytes_without_a_cpu_backend_is_named(monkeypatch):
    from lexitune.train.quantized import check_qlora

    monkeypatch.setitem(sys.modules, "bitsandbytes", types.SimpleNamespace(__version__="0.43.1"))
    with pytest.raises(LexituneError, match=r"on a CPU needs bitsandbytes >= 0\.46 \(installed: 0\.43\.1\)"):
        check_qlora("cpu")
    check_qlora("cuda")  # CUDA builds of any version run 4-bit layers


def test_the_installed_bitsandbytes_runs_four_bit_layers_here():
    from lexitune.train.quantized import check_qlora

    check_qlora("cpu")
