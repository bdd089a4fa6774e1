"""Production's shared cache, for real: rate-limit counters in Redis (REDIS_URL).

Needs the Redis server at TEST_REDIS_URL (default redis://127.0.0.1:6379/9, a database of its
own that these tests empty); without it they skip, which CI=true turns into failures.
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from .conftest import CSRF_TOKEN, NOW, csrf_client

pytestmark = pytest.mark.django_db

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def _production_caches(settings, location):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
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


def test_logging_out_ends_the_session(with_redis, patient, make_reservation, frozen_now):
    make_reservation(patient, NOW + timedelta(days=30))
    browser = csrf_client(patient)
    assert browser.get("/dashboard/").status_code == 200
    cookie = browser.cookies["sessionid"].value
    assert browser.post("/accounts/logout/", {"csrfmiddlewaretoken": CSRF_TOKEN}).status_code == 302

    # The old cookie, replayed, no longer logs anyone in.
    stolen = Client()
    stolen.cookies["sessionid"] = cookie
    response = stolen.get("/dashboard/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # Sessions are the database's alone: nothing of them in Redis to bring back.
    assert not [k for k in with_redis.scan_iter() if b"session" in k]


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

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(call, range(40)))
    assert codes == [200] * 25 + [429] * 15
    assert len(list(with_redis.scan_iter(match="*rl:*"))) == 1


def test_redis_down_leaves_the_pages_up_and_the_api_answers_a_quick_503(
    settings, client, patient, make_reservation, frozen_now
):
    make_reservation(patient, NOW + timedelta(days=3))
    client.force_login(patient)
    _production_caches(settings, "redis://127.0.0.1:1/0")  # nothing listens there
    client.raise_request_exception = False
    # The patient's pages need only the database.
    response = client.get("/dashboard/")
    assert response.status_code == 200 and "Lucía" in response.content.decode()
    # The API's rate limit needs the cache: a quick 503 the client may retry, not a hang.
    started = time.monotonic()
    response = client.get(f"/api/reservations/user/{patient.pk}")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["status"] == 503
    assert time.monotonic() - started < 5
