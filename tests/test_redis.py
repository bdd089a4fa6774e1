"""Production's caches, for real: the API's rate-limit counters in Redis (REDIS_URL), the
login limits in the database.

Needs the Redis server at TEST_REDIS_URL (default redis://127.0.0.1:6379/9, a database of its
own that these tests empty); without it they skip, which CI=true turns into failures.
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client

from .conftest import CSRF_TOKEN, NOW, PASSWORD, csrf_client

pytestmark = pytest.mark.django_db

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def _production_caches(settings, location):
    """The production caches: login limits in the database's table, the API's in Redis."""
    from reservations_site import settings as production

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "turnos_cache",
        },
        "api": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": production.API_CACHE_OPTIONS,
        },
    }


@pytest.fixture
def with_redis(settings):
    import redis

    server = redis.Redis.from_url(REDIS, socket_timeout=2)
    try:
        server.flushdb()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS}: {exc}")
    _production_caches(settings, REDIS)
    yield server
    server.flushdb()


def test_a_logout_stays_a_logout_when_redis_goes_back_to_an_older_snapshot(
    with_redis, patient, make_reservation, frozen_now
):
    make_reservation(patient, NOW + timedelta(days=30))
    browser = csrf_client(patient)
    assert browser.get("/dashboard/").status_code == 200
    assert browser.get(f"/api/reservations/user/{patient.pk}").status_code == 200
    cookie = browser.cookies["sessionid"].value
    # What Redis holds while the patient is logged in (a snapshot, an RDB file, a replica).
    snapshot = {key: with_redis.dump(key) for key in with_redis.scan_iter()}
    assert browser.post("/accounts/logout/", {"csrfmiddlewaretoken": CSRF_TOKEN}).status_code == 302
    # Redis restarts from that snapshot.
    with_redis.flushdb()
    for key, value in snapshot.items():
        with_redis.restore(key, 0, value, replace=True)

    # The old cookie, replayed, logs nobody in: sessions live in the database alone.
    stolen = Client()
    stolen.cookies["sessionid"] = cookie
    response = stolen.get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert stolen.get(f"/api/reservations/user/{patient.pk}").status_code == 401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_api_limit_is_counted_in_redis_once_per_request_across_threads(
    with_redis, settings, patient
):
    settings.API_RATE_LIMIT = "25/min"
    url = f"/api/reservations/user/{patient.pk}"

    def call(_):
        browser = Client()
        browser.force_login(patient)
        status = browser.get(url).status_code
        connection.close()
        return status

    # A minute's window starts on the clock's minute: at the start of one, the 40 requests cannot
    # straddle two windows however slow the machine is.
    with time_machine.travel(NOW, tick=False), ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(call, range(40)))
    assert codes == [200] * 25 + [429] * 15
    assert len(list(with_redis.scan_iter(match="*rl:*"))) == 1


def test_redis_down_leaves_pages_logins_and_the_api_up_without_rate_limits(
    settings, patient, make_reservation, frozen_now, caplog
):
    make_reservation(patient, NOW + timedelta(days=3))
    _production_caches(settings, "redis://127.0.0.1:1/0")  # nothing listens there
    settings.API_RATE_LIMIT = "1/min"
    started = time.monotonic()
    # Logging in counts attempts in the database's table: it works, and stays throttled.
    browser = csrf_client()
    response = browser.post(
        "/accounts/login/",
        {"login": patient.email, "password": PASSWORD, "csrfmiddlewaretoken": CSRF_TOKEN},
    )
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    # The patient's pages need only the database.
    response = browser.get("/dashboard/")
    assert response.status_code == 200 and "Lucía" in response.content.decode()
    # The API answers, its rate limit unenforced while its counters are unreachable.
    for _ in range(3):
        assert browser.get(f"/api/reservations/user/{patient.pk}").status_code == 200
    assert time.monotonic() - started < 5
    assert "Exception ignored" in caplog.text  # the operator sees Redis is gone


def test_login_limits_are_kept_in_the_database_and_hold_with_redis_down(settings, patient):
    _production_caches(settings, "redis://127.0.0.1:1/0")  # Redis unreachable
    from django.db import connection as db

    def attempt(password):
        return csrf_client().post(
            "/accounts/login/",
            {"login": patient.email, "password": password, "csrfmiddlewaretoken": CSRF_TOKEN},
        )

    for _ in range(5):
        assert attempt("wrong-password").status_code == 200  # the form again, with its error
    # The sixth try for this account is refused, even with the right password: the failures
    # were counted in the database's table, which every server process shares.
    refused = attempt(PASSWORD)
    assert refused.status_code in (200, 429)
    assert "sessionid" not in refused.cookies or not refused.cookies["sessionid"].value
    assert refused.status_code == 429 or "Demasiados intentos" in refused.content.decode()
    with db.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM turnos_cache")
        assert cursor.fetchone()[0] > 0
