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


# The policy the site is meant to be served with (the lead adds it server-side). The browser
# tests apply it to every page themselves, so an inline script, inline style or event handler
# shows up as a console error here before it breaks production.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "object-src 'none'"
)


def enforce_strict_csp(context):
    """Serve every HTML document of this browser context with STRICT_CSP."""

    def handle(route):
        if route.request.resource_type != "document":
            route.continue_()
            return
        response = route.fetch(max_redirects=0)
        headers = {**response.headers, "content-security-policy": STRICT_CSP}
        route.fulfill(response=response, headers=headers)

    context.route("**/*", handle)


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
