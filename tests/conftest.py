import os
from datetime import datetime, timedelta

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would then refuse
# database calls in later tests. This is the documented switch for that case.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Under CI a skipped test is a hidden failure (a missing database or browser): fail it.
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true: {report.longrepr}"


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if on_postgres:
        return
    # PostgreSQL-only tests are not run (nor reported as skipped) on an SQLite run.
    kept = [item for item in items if "postgres" not in item.keywords]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(autouse=True)
def _empty_caches(settings):
    # Rate-limit counters live in the caches: each test starts with none, in memory, so a test
    # without the database can run. tests/test_redis.py and test_hardening.py use the production
    # caches (a table in the database, Redis).
    from django.core.cache import caches

    settings.CACHES = {
        alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": alias}
        for alias in ("default", "api")
    }
    for cache in caches.all():
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _no_holidays(settings):
    # Tests pick their days freely (next Monday, a fixed date): a national holiday falling on one
    # would take its slots away on some days of the year only. tests/test_closures.py turns the
    # holidays on where they are the point.
    settings.PRACTICE_HOLIDAYS = ""


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


PASSWORD = "correct-horse-battery-staple"


def make_user(email, first_name="", factor=None, **fields):
    """A user who can log in. Staff come with two-step verification set up (`factor`), as the
    site requires of them before it opens anything (accounts/enrolment.py); factor=False makes
    one who has not enrolled yet."""
    from allauth.account.models import EmailAddress

    from accounts.models import User

    user = User.objects.create_user(email=email, password=PASSWORD, first_name=first_name, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if factor if factor is not None else user.is_staff:
        give_factor(user)
    return user


# The authenticator app's secret of the users give_factor() enrols (base32, as apps take it).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def give_factor(user, secret=TOTP_SECRET):
    """Two-step verification set up for `user`: an authenticator app with `secret`, stored the
    way allauth stores one (through its adapter's encrypt())."""
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": get_adapter().encrypt(secret)}
    )


def totp_code(secret=TOTP_SECRET, at=None, period=30, digits=6):
    """The code an authenticator app shows for `secret` at `at` (a Unix time; now by default):
    RFC 6238, HMAC-SHA1 over the 30-second step."""
    import base64
    import hashlib
    import hmac
    import struct
    import time

    if at is None:
        # A code typed in the last moments of its 30 seconds may reach the server in the next
        # ones, when it no longer counts (allauth accepts only the current step): wait for a
        # fresh step, as a person would.
        left = period - time.time() % period
        if left < 3:
            time.sleep(left + 0.1)
    counter = int(time.time() if at is None else at) // period
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


@pytest.fixture
def patient(db):
    return make_user("lucia@example.com", first_name="Lucía")


@pytest.fixture
def other_patient(db):
    return make_user("martin@example.com", first_name="Martín")


@pytest.fixture
def professional(db):
    from accounts.models import ProfessionalProfile

    user = make_user("gomez@example.com", first_name="Carolina", last_name="Gómez", factor=True)
    ProfessionalProfile.objects.create(
        user=user, display_name="Lic. Carolina Gómez", specialty="Psicología"
    )
    return user


@pytest.fixture
def staff(db):
    return make_user(
        "recepcion@example.com", first_name="Recepción", is_staff=True, is_superuser=True
    )


@pytest.fixture
def make_reservation(professional):
    from reservations.models import Reservation

    def make(client, start, minutes=45, status="CONFIRMED", modality="Virtual", pro=None):
        return Reservation.objects.create(
            client=client,
            professional=pro or professional,
            start_time=start,
            end_time=start + timedelta(minutes=minutes),
            status=status,
            session_modality=modality,
        )

    return make


# A fixed "now" for tests about time: Tuesday 10 March 2026, 12:00 in Buenos Aires (15:00 UTC).
NOW = datetime.fromisoformat("2026-03-10T15:00:00+00:00")


@pytest.fixture
def frozen_now():
    import time_machine

    with time_machine.travel(NOW, tick=False):
        yield NOW


def csrf_client(user=None):
    """A test client that checks CSRF like a browser would, optionally logged in."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    # What a page load leaves in the browser: a CSRF cookie the forms echo back.
    client.cookies["csrftoken"] = CSRF_TOKEN
    return client


CSRF_TOKEN = "Turnos0CsrfToken0ForTests0123456"  # 32 letters and digits, the cookie's format


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, once per test module (tests/browser.py)."""
    from playwright.sync_api import sync_playwright

    from .browser import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
