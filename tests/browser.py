"""Playwright + Chromium for the browser tests. Debian's Chromium unless CHROMIUM_PATH says
otherwise (on machines where `playwright install chromium` works, set CHROMIUM_PATH="")."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", "test-artifacts/screenshots"))


def launch(playwright):
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if path and not shutil.which(path):
        pytest.skip(f"Chromium not found at {path} (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=path or None, args=CHROMIUM_ARGS)


def screenshot(page, name):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
