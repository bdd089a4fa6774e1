"""Production's shared cache, for real: sessions and cached pages in Redis (REDIS_URL).

Needs the Redis server at TEST_REDIS_URL (default redis://127.0.0.1:6379/9, a database of its
own that these tests empty); without it they skip, which CI=true turns into failures.
"""

import os
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reservations import pagecache

from .conftest import CSRF_TOKEN, NOW, csrf_client

pytestmark = pytest.mark.django_db

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def _production_caches(settings, location):
    settings.CACHES = {
        "default": {
            "BACKEND": "reservations_site.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


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


def test_a_cached_dashboard_costs_one_query_with_sessions_and_pages_in_redis(
    with_redis, client, patient, make_reservation, frozen_now
):
    make_reservation(patient, NOW + timedelta(days=30))
    client.force_login(patient)
    first = client.get("/dashboard/")
    with CaptureQueriesContext(connection) as ctx:
        again = client.get("/dashboard/")
    # Only the user: the session and the page come from Redis.
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]
    assert again.status_code == 200 and "Lucía" in again.content.decode()
    assert len(again.content) == len(first.content)
    assert list(with_redis.scan_iter(match=":1:page:*"))

    # Another server process (nothing in its own memory) gets the page from Redis.
    pagecache.recent.clear()
    with CaptureQueriesContext(connection) as ctx:
        other = client.get("/dashboard/")
    assert len(ctx.captured_queries) == 1
    assert other.content == again.content


def test_logging_out_ends_the_session_in_redis_too(
    with_redis, patient, make_reservation, frozen_now
):
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


def test_redis_down_is_a_quick_503_not_a_hang(settings, client, patient):
    client.force_login(patient)  # a session in the database, as Redis left it before failing
    _production_caches(settings, "redis://127.0.0.1:1/0")  # nothing listens there
    client.raise_request_exception = False
    started = time.monotonic()
    response = client.get("/dashboard/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert time.monotonic() - started < 5


def test_a_counter_is_one_round_trip_atomic_and_expires(with_redis):
    from concurrent.futures import ThreadPoolExecutor

    from django.core.cache import cache

    from reservations_site.cache import count

    with ThreadPoolExecutor(8) as pool:
        counts = sorted(pool.map(lambda _: count("hits", 60), range(50)))
    assert counts == list(range(1, 51))
    (key,) = with_redis.keys("*hits")
    assert 55 <= with_redis.ttl(key) <= 60  # set when the counter was created, not renewed
    assert cache.get("hits") == 50


def test_a_counter_adds_blocks(with_redis):
    from reservations_site.cache import count

    assert count("blocks", 60, 5) == 5
    assert count("blocks", 60, 5) == 10
    (key,) = with_redis.keys("*blocks")
    assert 55 <= with_redis.ttl(key) <= 60
