"""Promises about attacks, sessions, logging and failure (issue 5)."""

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from reservations.actions import Actor
from reservations.models import Reservation

from .conftest import CSRF_TOKEN, PASSWORD, csrf_client, make_user
from .test_notifications import run_due_tasks

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "prod-" + "s3cr3t-" * 10,
    "ALLOWED_HOSTS": "turnos.example,localhost",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _script(name, *args, **env):
    base = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    result = subprocess.run(
        [sys.executable, f"tests/scripts/{name}", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


# --- Production headers ------------------------------------------------------------------------


def test_production_sends_strict_security_headers_and_host_cookies():
    (out,) = _script("headers.py", **PRODUCTION_ENV)
    h = out["headers"]
    csp = h["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"
    csrf = out["cookies"]["__Host-csrftoken"]
    assert csrf["secure"] and csrf["path"] == "/" and not csrf["domain"]
    assert out["session_cookie"] == ["__Host-sessionid", True, True]
    assert out["insecure_redirect"] == 301  # plain HTTP goes to HTTPS
    # ... except the health probes, which a load balancer sends over plain HTTP.
    assert out["probes"]["/livez"] == 200
    assert out["probes"]["/healthz"] in (200, 503)


@pytest.mark.django_db
def test_the_csp_applies_in_development_too(client):
    csp = client.get("/accounts/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


@pytest.mark.django_db
def test_pages_have_no_inline_scripts(client, patient):
    client.force_login(patient)
    html = client.get("/dashboard/").content.decode()
    assert "<script>" not in html
    assert all("src=" in tag for tag in html.split("<script")[1:])
    assert " onclick=" not in html and ' style="' not in html


# --- Logins --------------------------------------------------------------------------------------


def _login(client, email, password):
    return client.post(
        "/accounts/login/",
        {"login": email, "password": password, "csrfmiddlewaretoken": CSRF_TOKEN},
    )


@pytest.mark.django_db
def test_an_account_is_locked_after_five_failed_logins(patient):
    client = csrf_client()
    for _ in range(5):
        assert _login(client, patient.email, "wrong").status_code == 200
    # Even the right password is refused now.
    r = _login(client, patient.email, PASSWORD)
    assert r.status_code in (200, 429)
    assert client.get("/dashboard/").status_code == 302


def _login_from(address, email, password):
    return csrf_client().post(
        "/accounts/login/",
        {"login": email, "password": password, "csrfmiddlewaretoken": CSRF_TOKEN},
        REMOTE_ADDR=address,
    )


def _logged_in(response):
    return response.status_code == 302 and response["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_someone_who_knows_an_email_cannot_lock_its_owner_out(patient):
    # Five wrong passwords from one address lock the account for that address only.
    for _ in range(5):
        assert not _logged_in(_login_from("203.0.113.7", patient.email, "guess"))
    assert not _logged_in(_login_from("203.0.113.7", patient.email, PASSWORD))
    # The patient, elsewhere, logs in as usual.
    assert _logged_in(_login_from("198.51.100.20", patient.email, PASSWORD))


@pytest.mark.django_db
def test_a_password_reset_lifts_the_lock(patient):
    for _ in range(5):
        _login_from("198.51.100.20", patient.email, "forgotten")
    assert not _logged_in(_login_from("198.51.100.20", patient.email, PASSWORD))
    browser = csrf_client()
    browser.post(
        "/accounts/password/reset/",
        {"email": patient.email, "csrfmiddlewaretoken": CSRF_TOKEN},
        REMOTE_ADDR="198.51.100.20",
    )
    run_due_tasks()
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[-1].body)
    form_url = browser.get(link.group(1))["Location"]
    new = "a-new-long-secret-9"
    browser.post(
        form_url,
        {"password1": new, "password2": new, "csrfmiddlewaretoken": CSRF_TOKEN},
        REMOTE_ADDR="198.51.100.20",
    )
    assert _logged_in(_login_from("198.51.100.20", patient.email, new))


@pytest.mark.django_db
def test_one_address_is_throttled_across_accounts(db):
    client = csrf_client()
    for i in range(10):
        _login(client, f"nobody{i}@example.com", "wrong")
    user = make_user("fresh@example.com")
    _login(client, user.email, PASSWORD)
    assert client.get("/dashboard/").status_code == 302


@pytest.mark.django_db
def test_the_admin_login_goes_through_the_throttled_form(client):
    r = client.get("/admin/login/?next=/admin/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_known_and_unknown_emails_get_the_same_answer(patient):
    known = _login(csrf_client(), patient.email, "wrong")
    unknown = _login(csrf_client(), "nobody@example.com", "wrong")
    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].errors == unknown.context["form"].errors
    reset = [
        csrf_client().post(
            "/accounts/password/reset/", {"email": email, "csrfmiddlewaretoken": CSRF_TOKEN}
        )
        for email in (patient.email, "nobody@example.com")
    ]
    assert [r.status_code for r in reset] == [302, 302]
    assert reset[0]["Location"] == reset[1]["Location"]


@pytest.mark.django_db
def test_the_session_key_changes_at_login(patient):
    client = csrf_client()
    session = client.session
    session["pre_login"] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    before = session.session_key
    _login(client, patient.email, PASSWORD)
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before


@pytest.mark.django_db
def test_a_password_change_ends_the_other_sessions(patient):
    phone, laptop = csrf_client(patient), csrf_client(patient)
    r = laptop.post(
        "/accounts/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "another-long-secret-7",
            "password2": "another-long-secret-7",
            "csrfmiddlewaretoken": CSRF_TOKEN,
        },
    )
    assert r.status_code == 302
    assert laptop.get("/dashboard/").status_code == 200
    assert phone.get("/dashboard/").status_code == 302


@pytest.mark.django_db
def test_an_idle_session_expires(patient):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = csrf_client(patient)
        assert client.get("/dashboard/").status_code == 200
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 60))
        assert client.get("/dashboard/").status_code == 200  # activity renews the clock
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT - 60))
        assert client.get("/dashboard/").status_code == 200
        clock.shift(timedelta(seconds=settings.SESSION_IDLE_TIMEOUT + 1))
        r = client.get("/dashboard/")
        assert r.status_code == 302
        assert r["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_logout_needs_a_post(patient):
    client = csrf_client(patient)
    assert client.get("/accounts/logout/").status_code == 200
    assert client.get("/dashboard/").status_code == 200


# --- Logs ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_logs_carry_request_id_user_and_path_but_no_secrets(
    patient, other_patient, make_reservation, caplog
):
    theirs = make_reservation(other_patient, timezone.now() + timedelta(days=5))
    mine = make_reservation(patient, timezone.now() + timedelta(days=6))
    client = csrf_client(patient)
    client.get("/dashboard/")  # loads the user for this session
    caplog.set_level(logging.INFO)
    r = client.post(
        f"/reservations/{theirs.pk}/cancel/",
        {"csrfmiddlewaretoken": CSRF_TOKEN, "reason": "SECRET-REASON"},
        headers={"X-Request-ID": "req-abc-123"},
    )
    assert r.status_code == 404
    assert r["X-Request-ID"] == "req-abc-123"
    refused = [rec for rec in caplog.records if "refused access" in rec.getMessage()]
    assert refused and refused[0].levelno == logging.WARNING
    assert refused[0].request_id == "req-abc-123"
    assert refused[0].user_id == patient.pk
    assert refused[0].path == f"/reservations/{theirs.pk}/cancel/"
    client.post(
        f"/reservations/{mine.pk}/cancel/",
        {"csrfmiddlewaretoken": CSRF_TOKEN, "reason": "SECRET-REASON"},
    )
    _login(csrf_client(), patient.email, "HUNTER2-PASSWORD")
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "SECRET-REASON" not in text
    assert "HUNTER2" not in text
    assert patient.email not in text
    failed = [rec for rec in caplog.records if rec.getMessage().startswith("login failed")]
    assert failed and failed[0].levelno == logging.WARNING


@pytest.mark.django_db
def test_a_path_cannot_forge_a_log_line(client, caplog):
    from reservations_site.logging import UTCFormatter

    caplog.set_level(logging.INFO)
    forged = "2026-03-10T15:00:00.000Z INFO turnos.security request=forged user=- path=/ ok"
    assert client.get(f"/x%0d%0a{forged}%00%1b[31m").status_code == 404
    formatter = UTCFormatter("%(message)s path=%(path)s")
    lines = [formatter.format(record) for record in caplog.records]
    assert lines
    for line in lines:
        assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in line), repr(line)
    assert any("\\r\\n2026-03-10T15:00:00.000Z INFO" in line for line in lines)
    assert any("\\x00\\x1b[31m" in line for line in lines)


def test_an_error_is_logged_on_one_line():
    from reservations_site.logging import UTCFormatter

    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = UTCFormatter("%(message)s").format(record)
    assert "\n" not in line and "Traceback" in line and "ValueError: boom" in line


def test_log_times_are_utc():
    from reservations_site.logging import UTCFormatter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
    record.created = 0
    record.msecs = 0
    assert UTCFormatter().formatTime(record) == "1970-01-01T00:00:00.000Z"


# --- Failure -------------------------------------------------------------------------------------


def test_a_database_outage_is_a_503_with_retry_after_and_no_trace():
    outage = {
        **PRODUCTION_ENV,
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing",
        "DB_CONNECT_TIMEOUT": "2",
    }
    health, page, api, fragment, headless = _script("outage.py", "down", **outage)
    assert (health["status"], health["headers"]["Retry-After"]) == (503, "30")
    assert page["status"] == 503 and page["headers"]["Retry-After"] == "30"
    assert "<h1>" in page["body"] and "Traceback" not in page["body"]
    assert "psycopg" not in page["body"] and "127.0.0.1" not in page["body"]
    assert fragment["status"] == 503
    assert api["status"] == 503 and api["headers"]["Retry-After"] == "30"
    assert json.loads(api["body"])["status"] == 503
    assert fragment["body"].startswith('<p class="flash flash--error">')
    # An app's login gets JSON in allauth's error style, not the HTML page.
    assert headless["status"] == 503 and headless["headers"]["Retry-After"] == "30"
    assert headless["headers"]["Content-Type"].startswith("application/json")
    body = json.loads(headless["body"])
    assert body["status"] == 503 and body["errors"][0]["code"] == "unavailable"


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_server_starts_while_the_database_is_down_and_says_so():
    # `make serve` does not migrate first (that is `make migrate`, a release step): with the
    # database unreachable it still listens, /livez answers, and what needs the database is a
    # 503 that says to come back.
    import urllib.error
    import urllib.request

    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        **PRODUCTION_ENV,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nothing",
        "DB_CONNECT_TIMEOUT": "1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "VENV": str(Path(sys.executable).parent.parent),
    }
    server = subprocess.Popen(
        ["bash", "bench/serve.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def status(path, cookie=""):
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
        if cookie:
            request.add_header("Cookie", cookie)
        try:
            with urllib.request.urlopen(request, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the server exited"
            try:
                live = status("/livez")
                break
            except OSError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.3)
        assert live == 200
        assert status("/healthz") == 503
        # A logged-in patient's page needs the session, which is in the database.
        assert status("/dashboard/", cookie="__Host-sessionid=" + "a" * 32) == 503
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _recovery(scenario):
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**PRODUCTION_ENV, "SECURE_SSL_REDIRECT": "0", "DATABASE_URL": url}
    return [r["status"] for r in _script("outage.py", scenario, **env)]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_site_recovers_when_the_database_comes_back():
    # The database dropped the server's connection (a restart): Django's health check
    # (CONN_HEALTH_CHECKS) finds it dead before the next request uses it, and reconnects.
    assert _recovery("recover") == [200, 200, 200]


# --- Never deleted -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_user_with_reservations_cannot_be_deleted(client, staff, patient, make_reservation):
    make_reservation(patient, timezone.now() + timedelta(days=2))
    client.force_login(staff)
    r = client.post(f"/admin/accounts/user/{patient.pk}/delete/", {"post": "yes"})
    assert r.status_code == 200
    assert "No se puede eliminar" in r.content.decode()
    assert type(patient).objects.filter(pk=patient.pk).exists()
    assert Reservation.objects.count() == 1


@pytest.mark.django_db
def test_reservation_events_cannot_be_edited_or_deleted(client, staff, patient, make_reservation):
    r = make_reservation(patient, timezone.now() + timedelta(days=5))
    r.cancel(by=Actor.patient(patient, "page"))
    event = r.events.get()
    client.force_login(staff)
    base = f"/admin/reservations/reservationevent/{event.pk}"
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"{base}/change/", {"reason": "edited"})
    event.refresh_from_db()
    assert event.reason == ""
    assert client.get("/admin/reservations/reservationevent/add/").status_code == 403


@pytest.mark.django_db
def test_a_staff_reschedule_is_recorded(client, staff, patient, professional, make_reservation):
    start = timezone.now().replace(microsecond=0) + timedelta(days=5)
    r = make_reservation(patient, start)
    client.force_login(staff)
    local = timezone.localtime(start + timedelta(hours=3))
    resp = client.post(
        f"/admin/reservations/reservation/{r.pk}/change/",
        {
            "client": patient.pk,
            "professional": professional.pk,
            "start_time_0": local.strftime("%Y-%m-%d"),
            "start_time_1": local.strftime("%H:%M:%S"),
            "end_time_0": (local + timedelta(minutes=45)).strftime("%Y-%m-%d"),
            "end_time_1": (local + timedelta(minutes=45)).strftime("%H:%M:%S"),
            "session_modality": "Virtual",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:3000]
    event = r.events.get()
    assert event.action == "rescheduled"
    assert event.actor == staff
    assert set(event.changes) == {"start_time", "end_time"}
    r.refresh_from_db()
    assert r.start_time == start + timedelta(hours=3)
    assert r.status == "CONFIRMED"


@pytest.mark.django_db
def test_markup_is_escaped_on_the_page_and_in_the_admin(client, staff, make_reservation):
    evil = make_user("evil@example.com", first_name="<script>alert(1)</script>")
    r = make_reservation(evil, timezone.now() + timedelta(days=5))
    r.cancel(by=Actor.patient(evil, "page"), reason="<img src=x onerror=alert(1)>")
    client.force_login(evil)
    page = client.get("/dashboard/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    staff_client = Client()
    staff_client.force_login(staff)
    for url in (
        "/admin/reservations/reservation/",
        f"/admin/reservations/reservation/{r.pk}/change/",
        "/admin/reservations/reservationevent/",
    ):
        html = staff_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "<img src=x onerror" not in html
