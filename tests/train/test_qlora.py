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


def _four_bit_layers(model):
    import bitsandbytes as bnb

    return [m for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]


def test_a_model_loaded_for_training_is_never_repacked_for_the_avx512_inference_kernel(tiny_model_dir, monkeypatch):
    """On an AVX512-BF16 CPU, bitsandbytes repacks a 4-bit weight at its first eval-mode answer into
    a layout whose kernel has no backward; the answers before training must not do that."""
    import bitsandbytes.nn.modules
    import torch

    from lexitune.models import load_model

    monkeypatch.setattr(bitsandbytes.nn.modules, "has_avx512bf16", lambda: True)  # as on such a CPU
    model = load_model(str(tiny_model_dir), four_bit=True, training=True).eval()
    layers = _four_bit_layers(model)
    assert layers and not any(m.support_avx512bf16_for_cpu for m in layers)
    with torch.no_grad():
        model(input_ids=torch.tensor([[1, 2, 3]]))
    assert not any(getattr(m.weight.quant_state, "packing_format_for_cpu", False) for m in layers)


def test_preparing_for_lora_undoes_a_packing_already_done(tiny_model_dir):
    """A library user who answered with the 4-bit model first still trains on gradients that flow."""
    import torch
    from bitsandbytes.functional import _convert_weight_packed_for_cpu

    from lexitune.models import load_model
    from lexitune.train.quantized import prepare_for_lora

    model = load_model(str(tiny_model_dir), four_bit=True)
    layer = _four_bit_layers(model)[0]
    x = torch.randn(3, layer.in_features, requires_grad=True)
    layer(x).sum().backward()
    expected, x.grad = x.grad.clone(), None
    layer.weight.data, layer.weight.quant_state = _convert_weight_packed_for_cpu(
        layer.weight.data, layer.weight.quant_state
    )

    prepare_for_lora(model)
    assert not getattr(layer.weight.quant_state, "packing_format_for_cpu", False)
    layer(x).sum().backward()
    # The inverse rounds block scales to bf16: within 1%, where the packed path is off by ~100%.
    assert torch.linalg.norm(x.grad - expected) <= 0.01 * torch.linalg.norm(expected)
