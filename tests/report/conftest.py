"""Headless Chromium for the report tests: open a page from disk, return its DOM, console and a
screenshot. Debian's `chromium` package; the tests skip, saying so, where it is not installed."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


@dataclass
class Opened:
    dom: str
    console: list[str]  # messages the page logged (errors, uncaught exceptions)
    screenshot: Path


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    exe = _chromium()
    if exe is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium): reports not opened in a browser")
    profile = tmp_path_factory.mktemp("chromium-profile")

    def open_page(page: Path, width: int = 1280, height: int = 1600) -> Opened:
        base = [exe, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        url = page.resolve().as_uri()
        dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, text=True, timeout=90)
        shot = page.with_suffix(".png")
        subprocess.run([*base, f"--screenshot={shot}", url], capture_output=True, text=True, timeout=90)
        console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
        return Opened(dom.stdout, console, shot)

    return open_page


def pixel_spread(png: Path) -> float:
    """Standard deviation of the grey levels: about 0 for a blank page."""
    from PIL import Image, ImageStat

    return ImageStat.Stat(Image.open(png).convert("L")).stddev[0]
