"""`lexitune ui` without a browser: the queue survives a stopped UI, uploads fail inline, edits never
touch the original, the token guards any other address, runs are listed and compared."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from tests.conftest import culinary_glossary


def wait(queue, job, states=("done", "failed", "cancelled", "interrupted"), timeout=300):
    deadline = time.monotonic() + timeout
    while job.state not in states:
        assert time.monotonic() < deadline, f"job still {job.state}: {queue.log_tail(job)}"
        time.sleep(0.2)
    return job


def tiny_run_args(glossary, out, model, *extra):
    sets = [
        "recipe=plain",
        f"model.name={model}",
        "train.epochs=40",
        "train.batch_size=4",
        "train.save_every=20",
        "eval.max_new_tokens=8",
        "eval.embedding_model=none",
        "tracking.backend=none",
        *extra,
    ]
    return ["run", str(glossary), "--out", str(out), "--lang", "fr", *[a for s in sets for a in ("--set", s)]]


def test_a_run_stopped_with_the_ui_is_resumable_at_the_next_start(tiny_model_dir, tmp_path):
    from lexitune.ui.jobs import JobQueue

    glossary = culinary_glossary(tmp_path)
    home, out = tmp_path / "runs" / ".lexitune-ui", tmp_path / "runs" / "r"
    queue = JobQueue(home)
    job = queue.submit("run", tiny_run_args(glossary, out, tiny_model_dir), out, "run r")
    deadline = time.monotonic() + 300
    while not list((out / "checkpoints").glob("step-*")) if (out / "checkpoints").exists() else True:
        assert time.monotonic() < deadline and job.state in ("queued", "running"), queue.log_tail(job)
        time.sleep(0.1)
    queue.close()  # as when `lexitune ui` stops: the job is stopped, its checkpoint kept
    assert job.state == "interrupted" and not (out / "metrics.json").exists()

    again = JobQueue(home)  # the next start reads the queue from disk
    [seen] = again.jobs
    assert seen.state == "interrupted" and seen.resumable
    resumed = wait(again, again.resume(seen.id))
    assert resumed.state == "done", again.log_tail(resumed, 40)
    assert "resumed from" in again.log_tail(resumed, 200)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["train"]["steps"] == 320
    again.close()


def test_a_cancelled_run_can_be_resumed_and_a_queued_one_never_starts(tiny_model_dir, tmp_path):
    from lexitune.ui.jobs import JobQueue

    glossary = culinary_glossary(tmp_path)
    queue = JobQueue(tmp_path / "home")
    first = queue.submit("run", tiny_run_args(glossary, tmp_path / "a", tiny_model_dir), tmp_path / "a", "a")
    second = queue.submit("run", tiny_run_args(glossary, tmp_path / "b", tiny_model_dir), tmp_path / "b", "b")
    with pytest.raises(Exception, match="already queued or running"):
        queue.submit("run", [], tmp_path / "b", "b again")
    queue.cancel(second.id)
    assert second.state == "cancelled"
    wait(queue, first, ("running",))
    queue.cancel(first.id)
    assert wait(queue, first).state == "cancelled" and first.resumable
    time.sleep(1.5)
    assert not (tmp_path / "b").exists(), "a cancelled queued job must never start"
    queue.close()


@pytest.fixture
def client(tmp_path):
    from lexitune.ui import create_app

    with TestClient(create_app(tmp_path / "runs")) as c:
        yield c


def test_a_broken_glossary_is_shown_inline_with_its_file_and_line(client):
    page = client.post("/glossary/upload", files={"file": ("terms.csv", b"term,definition\nTEC,Techniques\nSAL\n")})
    assert page.status_code == 200
    assert "terms.csv:3" in page.text and "no definition" in page.text
    assert client.get("/glossary").text.count("terms.csv") == 0, "a broken file is not kept as if usable"
    page = client.post("/glossary/upload", files={"file": ("terms.docx", b"PK")})
    assert "not a glossary format" in page.text


def test_an_edited_row_is_saved_as_a_new_file(client, tmp_path):
    glossary = culinary_glossary(tmp_path)
    original = glossary.read_bytes()
    r = client.post("/glossary/upload", files={"file": ("culinary.json", original)}, follow_redirects=False)
    assert r.headers["location"] == "/glossary?file=culinary.json"
    r = client.post(
        "/glossary/edit",
        data={"file": "culinary.json", "index": 2, "term": "TEC", "definition": "Tout En Cuisine", "aliases": "T.E.C."},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/glossary?file=culinary-edited.json"
    folder = tmp_path / "runs" / ".lexitune-ui" / "glossaries"
    assert (folder / "culinary.json").read_bytes() == original
    from lexitune.glossary import load_glossary

    edited = {t.term: t for t in load_glossary(folder / "culinary-edited.json")}
    assert edited["TEC"].definition == "Tout En Cuisine" and edited["TEC"].aliases == ["T.E.C."]
    assert edited["PER"].definition == "Purée et Épice de la Réussite"
    # Editing again writes yet another file: nothing is written over.
    client.post("/glossary/edit", data={"file": "culinary.json", "index": 0, "term": "PER", "definition": "x"})
    assert (folder / "culinary-edited-2.json").exists()


def test_a_run_name_in_use_is_refused_not_overwritten(client, trained_run, tmp_path):
    shutil.copytree(trained_run, tmp_path / "runs" / "tiny")
    before = (tmp_path / "runs" / "tiny" / "metrics.json").read_bytes()
    client.post("/glossary/upload", files={"file": ("culinary.json", culinary_glossary(tmp_path).read_bytes())})
    page = client.post("/train/start", data={"file": "culinary.json", "name": "tiny"})
    assert "a run of that name exists" in page.text
    assert (tmp_path / "runs" / "tiny" / "metrics.json").read_bytes() == before


def test_a_seed_that_is_not_a_number_is_shown_inline_and_starts_nothing(client, tmp_path):
    client.post("/glossary/upload", files={"file": ("culinary.json", culinary_glossary(tmp_path).read_bytes())})
    page = client.post("/train/start", data={"file": "culinary.json", "seed": "abc"})
    assert page.status_code == 200
    assert "seed &#39;abc&#39;: expected a whole number" in page.text  # the message, HTML-escaped
    assert not (tmp_path / "runs" / "culinary").exists()
    # A link carrying the same bad seed shows the same message on the page itself.
    assert "expected a whole number" in client.get("/train?seed=abc").text


def test_runs_started_anywhere_are_listed_reported_and_compared(client, trained_run, tuned_run, tmp_path):
    shutil.copytree(trained_run, tmp_path / "runs" / "first")
    shutil.copytree(tuned_run, tmp_path / "runs" / "second")
    page = client.get("/runs").text
    assert "first" in page and "second" in page and page.count(">report</a>") == 2
    report = client.get("/runs/first/report")
    assert report.status_code == 200 and "<html" in report.text.lower()
    r = client.post("/runs/compare", data={"run": ["first", "second"]}, follow_redirects=False)
    comparison = client.get(r.headers["location"])
    assert comparison.status_code == 200 and "first" in comparison.text and "second" in comparison.text
    assert "tick two or more" in client.post("/runs/compare", data={"run": ["first"]}).text
    assert client.get("/runs/../../etc/report").status_code in (400, 404)


def test_another_address_needs_a_token(tmp_path):
    from lexitune.errors import LexituneError
    from lexitune.ui import create_app, require_token

    with pytest.raises(LexituneError, match="needs --token"):
        require_token("0.0.0.0", None)
    require_token("127.0.0.1", None)
    with TestClient(create_app(tmp_path / "runs", token="s3cret")) as c:
        assert c.get("/glossary").status_code == 401
        assert c.get("/glossary?token=wrong").status_code == 401
        assert c.get("/glossary?token=s3cret").status_code == 200
        assert c.get("/train").status_code == 200  # the cookie set by the first visit
    cli = subprocess.run(
        [sys.executable, "-m", "lexitune.cli", "ui", "--host", "0.0.0.0", "--runs", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        env={k: v for k, v in __import__("os").environ.items() if k != "LEXITUNE_UI_TOKEN"},
        timeout=120,
    )
    assert cli.returncode == 2 and "needs --token" in cli.stderr


def test_nothing_in_the_pages_is_fetched_from_elsewhere():
    from lexitune.ui.state import HERE

    for path in [*HERE.glob("templates/*.html"), HERE / "static" / "ui.css", HERE / "static" / "ui.js"]:
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path


def test_progress_is_read_from_the_run_folder(trained_run, tmp_path):
    from lexitune.ui.progress import run_progress, svg_curve

    done = run_progress(trained_run)
    assert done.finished and done.percent == 100 and done.metrics["after"]["exact_recall"] is not None
    run = tmp_path / "half"
    run.mkdir()
    shutil.copy(trained_run / "config.yaml", run / "config.yaml")
    assert run_progress(run).stage == "writing the conversations"
    rows = [
        {"step": s, "total_steps": 10, "loss": 2.0 / s, "tokens_per_second": 100.0, "seconds": 2.0 * s}
        for s in (1, 2, 3, 4)
    ]
    (run / "train_log.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + '\n{"step": 5, "tot')  # a half line
    half = run_progress(run)
    assert (half.stage, half.step, half.total_steps, half.percent) == ("training", 4, 10, 40)
    assert half.eta_seconds == 12.0  # 6 steps left at 2 s a step
    assert "<polyline" in svg_curve(half.loss, label="loss") and "no points yet" in svg_curve([], label="recall")
