"""`lexitune ui` in a real browser: Debian's chromium driven by Playwright (its own browser download
cannot work here, so it is pointed at the system one). One user's path with the tiny model: upload
the culinary glossary, start a run and watch it to the end (reloading mid-run), open the report,
ask the chat and try the traps, export. No page may log a console error or ask for anything off
this machine.

LEXITUNE_UI_SHOTS=docs/ui pytest tests/ui/test_browser.py  writes the screenshots of docs/ui.md.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.conftest import _chromium, culinary_glossary

# A run long enough to be reloaded mid-training, short enough for CI (about 20 s of training).
TRAIN_SETTINGS = """train.epochs=60
train.learning_rate=1e-2
train.batch_size=4
train.save_every=40
eval.max_new_tokens=24
eval.curve_every=40
eval.embedding_model=none
tracking.backend=none"""


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    assert exe is not None, "Debian's chromium is not installed (apt-get install -y chromium): the UI cannot be tested"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        def only_local(route):
            if re.match(r"https?://127\.0\.0\.1[:/]", route.request.url):
                return route.continue_()
            problems.append(f"asked the network for {route.request.url}")
            return route.abort()

        page.route("**/*", only_local)
        yield page, problems
        browser.close()


def shot(page, name: str, full_page: bool = True) -> None:
    folder = os.environ.get("LEXITUNE_UI_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def job_state(page) -> str:
    return page.locator(".job-card .state").first.inner_text()


def library_answers(run: Path, question: str) -> tuple[str, str]:
    """What `lexitune chat` answers, base then tuned: the page must show the same."""
    from lexitune.inference import Answerer, load_base_for, load_terms, load_trained
    from lexitune.rundir import RunDir

    run = RunDir(run)
    model, tokenizer, config = load_trained(run)
    asked = [{"role": "user", "content": question}]
    base = Answerer.base(load_base_for(model, config), tokenizer, config).stream(asked, lambda _: None)
    tuned = Answerer.tuned(model, tokenizer, config, load_terms(run)).stream(asked, lambda _: None)
    return base, tuned


def test_a_glossary_to_a_chat_answer_and_an_export_with_the_mouse(browser_page, tiny_model_dir, tmp_path, live_server):
    from lexitune.ui import create_app

    page, problems = browser_page
    glossary = culinary_glossary(tmp_path, name="culinary.json")
    runs = tmp_path / "runs"
    with live_server(create_app(runs)) as server:
        url = server.url
        # 1. Glossary: upload, preview.
        page.goto(f"{url}/")
        page.set_input_files("#upload", str(glossary))
        page.click("form[action='/glossary/upload'] button")
        page.wait_for_selector("#terms")
        assert page.locator("#terms tbody tr").count() == 4
        assert page.locator("#terms tbody tr").first.locator("input[name=term]").input_value() == "PER"
        shot(page, "glossary")

        # 2. Data: a preview with the split shown.
        page.click("#to-data")
        page.click("#preview")
        page.wait_for_selector("table.conversations", timeout=120_000)
        assert page.locator("tr.held-out").count() > 0 and page.locator("tr.train").count() > 0
        shot(page, "data", full_page=False)  # the first screen: the whole table is long

        # 3. Train: the tiny model, the plain recipe, watched to the end with a reload mid-run.
        page.goto(f"{url}/train?file=culinary.json")
        page.select_option("select[name=recipe]", "plain")
        page.fill("input[name=model]", str(tiny_model_dir))
        page.fill("input[name=name]", "culinary-tiny")
        page.click("details summary")
        page.fill("textarea[name=extra]", TRAIN_SETTINGS)
        page.click("#start")
        page.wait_for_function(
            "() => /step [1-9]\\d* of \\d+/.test(document.querySelector('.job-card .steps')?.textContent || '')",
            timeout=180_000,
        )
        before = int(re.search(r"step (\d+)", page.locator(".job-card .steps").inner_text()).group(1))
        shot(page, "train")
        page.reload()
        page.wait_for_selector(".job-card .steps")
        assert job_state(page) == "running", "the reload came too late to prove the run goes on"
        after = int(re.search(r"step (\d+)", page.locator(".job-card .steps").inner_text()).group(1))
        assert after >= before
        page.wait_for_function(
            "() => document.querySelector('.job-card .state')?.textContent === 'done'", timeout=300_000
        )
        steps = re.search(r"step (\d+) of (\d+)", page.locator(".job-card .steps").inner_text())
        assert steps and steps.group(1) == steps.group(2), "a finished run shows its last step"

        # 4. The report, from the Runs page.
        page.goto(f"{url}/runs")
        page.click("#runs a:text('report')")
        page.wait_for_load_state()
        assert "culinary-tiny" in page.content()
        page.go_back()

        # 5. Chat: the tuned answer, next to the base model's, as `lexitune chat` gives them.
        run = runs / "culinary-tiny"
        question = "Que veut dire TEC ?"
        base, tuned = library_answers(run, question)
        assert base != tuned, "the tuned model must answer otherwise than the base, or the check proves nothing"
        page.goto(f"{url}/chat?run=culinary-tiny")
        page.fill("#question", question)
        page.click("#ask")
        page.wait_for_selector(".exchange.answered", timeout=120_000)
        assert page.locator(".exchange .answer.tuned").first.inner_text().strip() == tuned.strip()
        assert page.locator(".exchange .answer.base").first.inner_text().strip() == base.strip()
        page.click("#traps")
        page.wait_for_function("() => document.querySelectorAll('.exchange.answered').length === 4", timeout=180_000)
        asked = page.locator(".exchange .q").all_inner_texts()
        assert "Quelle est la capitale de la France ?" in asked
        assert any("Purée et Épice de la Réussite" in q for q in asked)  # the reverse question
        shot(page, "chat")

        # 6. Share: an adapter export, downloaded; the model card previewed.
        page.goto(f"{url}/share?run=culinary-tiny")
        page.select_option("#format", "adapter")
        page.click("#export")
        page.wait_for_selector(".job-card .download", timeout=120_000)
        link = page.locator(".job-card .download").first.get_attribute("href")
        download = page.request.get(f"{url}{link}")
        assert download.ok
        archive = tmp_path / "adapter.zip"
        archive.write_bytes(download.body())
        assert "adapter_config.json" in zipfile.ZipFile(archive).namelist()
        page.fill("input[name=repo]", "me/culinary-tiny")
        page.click("#card-preview")
        page.wait_for_selector("pre.model-card")
        assert "lexitune" in page.locator("pre.model-card").inner_text()
        shot(page, "share")

        # Every page again, for console errors.
        for path in ("/glossary", "/data", "/train", "/runs", "/chat", "/share"):
            page.goto(f"{url}{path}")
            page.wait_for_load_state("networkidle")
    assert problems == []
    shutil.rmtree(runs, ignore_errors=True)
