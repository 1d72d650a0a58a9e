"""The reliability bench's parts at the suite's sizes (bench/reliability.py runs the long ones):
generation under injected faults loses no term silently; the server under concurrent load makes no
error and mixes no adapters up
(tests/serve/test_load.py)."""

from __future__ import annotations

import pytest

from tests.conftest import load_bench


@pytest.fixture(scope="module")
def reliability():
    return load_bench("reliability")


def test_no_term_is_lost_silently_under_generation_faults(reliability, tmp_path):
    results = reliability.faults(tmp_path, rates=(0.3, 0.6), terms=8, seed=1)
    assert sum(sum(r["faults_injected"].values()) for r in results.values()) >= 3  # faults were really met
    for rate, r in results.items():
        assert r["lost_silently"] == 0, (rate, r)
        assert r["kept"] + r["failed"] == r["terms"]
