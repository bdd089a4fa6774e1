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


def screenshot(page, name, full_page=True):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=full_page)


class ConsoleErrors:
    """Collects console errors and uncaught exceptions of a page. A test that provokes errors
    on purpose (a 500, a dropped connection) says which ones it expects with allow()."""

    def __init__(self, page):
        self.errors = []
        self.allowed = []
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def allow(self, *fragments):
        self.allowed.extend(fragments)

    def unexpected(self):
        return [e for e in self.errors if not any(a in e for a in self.allowed)]

    def csp_violations(self):
        return [e for e in self.errors if "Content Security Policy" in e]


def enter(page, live_server, email="lucia@example.com", path="/dashboard/"):
    """Logged in without the login form (test_browser.py exercises that form): a session made
    server-side, its cookie handed to the browser. Saves a second per test."""
    from django.conf import settings
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    if path:
        page.goto(f"{live_server.url}{path}")
