"""Issue 25: `make run` shows the site as its patients see it. Its server runs with DEBUG off, so
an unknown address answers with the site's own 404 (Django's debug 404, with DEBUG on, lists every
URL); and links in emails and calendars use the port it serves on (SITE_URL from PORT).

Read from the Makefile itself: `make -n run` prints the environment the server starts with, and a
Python process started with exactly that environment answers the requests."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

# What the server process would answer, from inside a process with make run's environment.
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
from calendars.ics import session_url

class Session:
    pk = "00000000-0000-0000-0000-000000000001"

response = Client().get("/no-such-page/", headers={"Host": "127.0.0.1:8123"})
print(json.dumps({
    "debug": settings.DEBUG,
    "status": response.status_code,
    "html": response.content.decode(),
    "site_url": settings.SITE_URL,
    "link": session_url(Session()),
    "email": settings.EMAIL_BACKEND,
}))
"""


def make_run_environment(port, **env):
    """The `export ...` make run's server and worker start with, as `make -n` prints it."""
    printed = subprocess.run(
        ["make", "-s", "-n", "run", f"PORT={port}", f"VENV={Path(sys.executable).parent.parent}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    ).stdout
    [line] = [line for line in printed.splitlines() if line.startswith("export ")]
    return line.split(";", 1)[0]


def serve_as_make_run(tmp_path, port=8123, collect=False, **env):
    export = make_run_environment(port, **env)
    environment = {
        **os.environ,
        "SECRET_KEY": "a-key-for-this-test-only",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "reservations_site.settings",
        **env,
    }
    if collect:
        # DEBUG off serves static files by their hashed names: make run collects them first.
        subprocess.run(
            ["sh", "-c", f"{export}; exec {sys.executable} manage.py collectstatic --noinput -v0"],
            cwd=ROOT,
            env=environment,
            check=True,
        )
    answer = subprocess.run(
        ["sh", "-c", f'{export}; exec {sys.executable} -c "$PROBE"'],
        cwd=ROOT,
        env={**environment, "PROBE": PROBE},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    return serve_as_make_run(tmp_path_factory.mktemp("run"), port=8123, collect=True)


def test_make_run_answers_an_unknown_address_with_the_sites_404(make_run):
    answer = make_run
    assert answer["debug"] is False
    assert answer["status"] == 404
    assert 'class="site-header"' in answer["html"]
    assert "Using the URLconf" not in answer["html"]
    assert "no-such-page" not in answer["html"]
    # Mail is printed in the console, not sent to an SMTP server this machine lacks.
    assert answer["email"] == "django.core.mail.backends.console.EmailBackend"


def test_make_run_links_to_the_port_it_serves_on(make_run):
    answer = make_run
    assert answer["site_url"] == "http://127.0.0.1:8123"
    assert answer["link"] == (
        "http://127.0.0.1:8123/reservations/00000000-0000-0000-0000-000000000001/"
    )


def test_a_site_url_given_to_make_run_wins(tmp_path):
    answer = serve_as_make_run(tmp_path, SITE_URL="https://turnos.example")
    assert answer["site_url"] == "https://turnos.example"
