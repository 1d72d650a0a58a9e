"""Adapters at runtime (serving issue, part 2): `serve --runs DIR`, a bound on adapters in memory
with least-recently-used unloading, and the admin API that loads and unloads adapters without a
restart. Bad paths and corrupt adapters are a 4xx and leave the server serving."""

from __future__ import annotations

import shutil

import httpx
import openai
import pytest

from lexitune.serve import AdapterRegistry, create_app
from lexitune.serve.registry import finished_runs

QUESTION = [{"role": "user", "content": "Que veut dire TEC ?"}]
ADMIN = {"Authorization": "Bearer sk-admin"}


def _answer(client, model: str) -> str:
    return client.chat.completions.create(model=model, messages=QUESTION, max_tokens=8).choices[0].message.content


@pytest.fixture(scope="module")
def runs_root(served_runs, tmp_path_factory):
    """A runs folder holding the two served runs and a third, not served at start-up."""
    root = tmp_path_factory.mktemp("runs")
    for name, run in served_runs.items():
        shutil.copytree(run, root / name)
    shutil.copytree(served_runs["culinary"], root / "later" / "culinary-v2")
    return root


def test_runs_folder_serves_every_finished_run(runs_root, tmp_path):
    assert set(finished_runs(runs_root)) == {"culinary", "other", "culinary-v2"}
    unfinished = tmp_path / "half"
    shutil.copytree(runs_root / "other", unfinished)
    (unfinished / "metrics.json").unlink()
    assert finished_runs(tmp_path) == {}


def test_a_bound_on_adapters_in_memory_unloads_the_least_recently_used(served_runs, registry, live_server):
    bounded = AdapterRegistry.from_runs(served_runs, max_loaded=1)
    assert list(bounded.loaded) == ["culinary"]
    with live_server(create_app(registry)) as free, live_server(create_app(bounded)) as tight:
        client_free = openai.OpenAI(base_url=f"{free.url}/v1", api_key="x", max_retries=0)
        client_tight = openai.OpenAI(base_url=f"{tight.url}/v1", api_key="x", max_retries=0)
        for model in ["other", "culinary", "other", "base", "culinary"]:
            assert _answer(client_tight, model) == _answer(client_free, model), model
    assert bounded.evictions == 4 and list(bounded.loaded) == ["culinary"]  # each switch but to base


def test_the_admin_api_loads_and_unloads_adapters_without_a_restart(runs_root, live_server):
    registry = AdapterRegistry.from_runs(finished_runs(runs_root / "later"), runs_root=runs_root)
    with live_server(create_app(registry, api_key="sk-user", admin_key="sk-admin")) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-user", max_retries=0)
        before = _answer(client, "culinary-v2")

        def admin(path: str, body: dict, headers=ADMIN) -> httpx.Response:
            return httpx.post(f"{server.url}/v1/{path}", json=body, headers=headers, timeout=120)

        assert (
            admin(
                "load_lora_adapter", {"lora_name": "o", "lora_path": "other"}, {"Authorization": "Bearer sk-user"}
            ).status_code
            == 401
        )
        assert admin("load_lora_adapter", {"lora_name": "o", "lora_path": "other"}).status_code == 200
        assert "o" in [m.id for m in client.models.list()]
        assert _answer(client, "o") != before  # the other adapter's answer, not culinary's
        for body, fragment in [
            ({"lora_name": "x", "lora_path": "../../etc"}, "not inside the runs folder"),
            ({"lora_name": "x", "lora_path": "nothing-here"}, "not a lexitune run folder"),
            ({"lora_name": "o", "lora_path": "other"}, "already served"),
            ({"lora_name": "../x", "lora_path": "other"}, "names are"),
        ]:
            r = admin("load_lora_adapter", body)
            assert r.status_code == 400 and fragment in r.json()["error"]["message"], r.text
        broken = runs_root / "broken"
        shutil.copytree(runs_root / "other", broken)
        (broken / "adapter" / "adapter_model.safetensors").write_bytes(b"not safetensors")
        r = admin("load_lora_adapter", {"lora_name": "broken", "lora_path": "broken"})
        assert r.status_code == 400 and "cannot load the adapter" in r.json()["error"]["message"]
        assert "broken" not in [m.id for m in client.models.list()]
        assert _answer(client, "culinary-v2") == before  # still serving, unchanged
        assert admin("unload_lora_adapter", {"lora_name": "o"}).status_code == 200
        with pytest.raises(openai.NotFoundError):
            _answer(client, "o")
        assert admin("unload_lora_adapter", {"lora_name": "o"}).status_code == 404


def test_without_an_admin_key_runtime_loading_is_off(registry, live_server):
    with live_server(create_app(registry)) as server:
        r = httpx.post(f"{server.url}/v1/load_lora_adapter", json={"lora_name": "a", "lora_path": "b"})
        assert r.status_code == 403
