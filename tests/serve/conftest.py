"""A live server on 127.0.0.1 with two adapters on the tiny base model, for the whole module."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest


def perturbed_copy(run: Path, dest: Path, scale: float) -> Path:
    """A second run whose adapter differs from the first: its LoRA B matrices scaled."""
    from safetensors.torch import load_file, save_file

    shutil.copytree(run, dest)
    weights = dest / "adapter" / "adapter_model.safetensors"
    tensors = load_file(weights)
    save_file({k: v * scale if "lora_B" in k else v for k, v in tensors.items()}, weights)
    return dest


class LiveServer:
    def __init__(self, app):
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def served_runs(trained_run, tmp_path_factory) -> dict[str, Path]:
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
def live(registry):
    from lexitune.serve import create_app

    with LiveServer(create_app(registry, api_key="sk-test-key")) as server:
        yield server
