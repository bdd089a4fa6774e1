"""Hardening under production settings (DEBUG=0): cookies, headers, security.txt, Django's
deployment checks; and no answer carrying a person's data is stored by a browser or a proxy."""

import os
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from .conftest import NOW, csrf_client
from .test_api import bearer_client
from .test_hardening import PRODUCTION_ENV, ROOT, _script

pytestmark = pytest.mark.django_db


def _no_store(response):
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


# --- Production headers and cookies ------------------------------------------------------------


def test_production_cookies_and_headers():
    (out,) = _script("headers.py", **PRODUCTION_ENV)
    h = out["headers"]
    assert h["Permissions-Policy"] == "camera=(), geolocation=(), microphone=()"
    assert h["Cross-Origin-Opener-Policy"] == "same-origin"
    assert h["Referrer-Policy"] == "same-origin"
    assert "preload" in h["Strict-Transport-Security"]
    csrf = out["cookies"]["__Host-csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    assert out["session_cookie"] == ["__Host-sessionid", True, True]


def test_the_session_cookie_is_secure_httponly_and_lax_in_production():
    env = {**os.environ, **PRODUCTION_ENV}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'reservations_site.settings'); django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.CSRF_COOKIE_SAMESITE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == ["True", "True", "Lax", "True", "True", "Lax"], result.stderr


def test_check_deploy_is_clean_under_production_settings():
    env = {**os.environ, **PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(64)}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Advice (INFO) may be printed; nothing to fix.
    for level in ("WARNINGS:", "ERRORS:", "CRITICALS:"):
        assert level not in result.stdout + result.stderr


# --- security.txt ------------------------------------------------------------------------------


def test_security_txt(client, settings, frozen_now):
    settings.SECURITY_CONTACT = "mailto:seguridad@consultorio.example"
    settings.SITE_URL = "https://turnos.example"
    r = client.get("/.well-known/security.txt")
    assert r.status_code == 200
    assert r["Content-Type"] == "text/plain; charset=utf-8"
    fields = dict(line.split(": ", 1) for line in r.content.decode().splitlines())
    assert fields["Contact"] == "mailto:seguridad@consultorio.example"
    assert fields["Preferred-Languages"] == "es, en"
    assert fields["Canonical"] == "https://turnos.example/.well-known/security.txt"
    expires = datetime.strptime(fields["Expires"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert expires == NOW + timedelta(days=365)


# --- Cache-Control on what carries personal data -----------------------------------------------


def test_every_page_for_a_logged_in_person_is_private_no_store(patient, make_reservation):
    r = make_reservation(patient, NOW + timedelta(days=3))
    client = csrf_client(patient)
    for url in ("/dashboard/", f"/reservations/{r.pk}/", "/preferences/", "/book/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert _no_store(response), (url, response.get("Cache-Control"))


def test_a_sessions_ics_is_private_no_store(patient, make_reservation, frozen_now):
    r = make_reservation(patient, NOW + timedelta(days=3))
    response = csrf_client(patient).get(f"/reservations/{r.pk}/calendar.ics")
    assert response.status_code == 200
    assert _no_store(response)


def test_the_calendar_feed_is_private_and_revalidated(patient, frozen_now):
    from calendars.models import FeedToken

    token = FeedToken.for_user(patient).token
    response = Client().get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    # Never kept by a shared cache, and revalidated on every fetch (by its ETag: no-store would
    # forbid the ETag, and with it the 304 that spares calendar services the whole feed).
    directives = {d.strip() for d in response["Cache-Control"].split(",")}
    assert {"private", "no-cache"} <= directives


def test_the_api_is_private_no_store(patient, frozen_now):
    response = bearer_client(patient).get(f"/api/reservations/user/{patient.pk}")
    assert response.status_code == 200
    assert _no_store(response)


def test_a_professionals_photo_keeps_its_hour(patient):
    # Its view chose private, max-age=3600: the middleware leaves a chosen Cache-Control alone.
    from django.http import HttpResponse
    from django.test import RequestFactory

    from reservations_site.middleware import PrivateCacheMiddleware

    def view(request):
        response = HttpResponse("photo")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    request = RequestFactory().get("/")
    request.user = patient
    assert PrivateCacheMiddleware(view)(request)["Cache-Control"] == "private, max-age=3600"
    assert _no_store(PrivateCacheMiddleware(lambda r: HttpResponse())(request))
