"""16 concurrent clients on the live server (bench/reliability.py's server part at the suite's size):
no error, and every reply is the one its adapter gives alone, so no adapter answers for another."""

from __future__ import annotations

import pytest

from tests.conftest import load_bench


@pytest.mark.slow
def test_concurrent_clients_get_their_own_adapters_answers(served_runs, tmp_path):
    r = load_bench("reliability").server(tmp_path, served_runs, requests=64, clients=16, fuzz_examples=10)
    assert r["errors"] == 0, r["error_examples"]
    assert r["different_from_alone"] == 0, r["different_examples"]
    assert r["schemathesis_5xx"] == 0
    assert r["p50_s"] is not None and r["p99_s"] >= r["p50_s"]
