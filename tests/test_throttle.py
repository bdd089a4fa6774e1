"""The API's per-user rate limit (api/throttle.py), as several server processes share it.

Each UserThrottle instance here stands for one server process; they share the cache, as processes
share Redis. Through HTTP, tests/test_api.py covers the 429 answer and the window's edge.
"""

import random
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import time_machine
from django.core.cache import cache

from api import throttle as throttle_module
from api.throttle import UserThrottle

START = datetime(2026, 3, 10, 15, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def counted(monkeypatch):
    """The cache calls the throttles make."""
    calls = []
    real = throttle_module.count

    def count(key, timeout, amount=1):
        calls.append((key, amount))
        return real(key, timeout, amount)

    monkeypatch.setattr(throttle_module, "count", count)
    return calls


def request_by(pk):
    return SimpleNamespace(user=SimpleNamespace(pk=pk))


def test_a_user_never_gets_more_than_the_limit_across_processes(settings):
    settings.API_RATE_LIMIT = "200/min"  # blocks of 10
    processes = [UserThrottle(), UserThrottle(), UserThrottle()]
    users = [uuid.uuid4() for _ in range(5)]
    rng = random.Random(6)
    allowed = dict.fromkeys(users, 0)
    with time_machine.travel(START, tick=False):
        for _ in range(2000):
            user = rng.choice(users)
            allowed[user] += rng.choice(processes).allow_request(request_by(user))
    # At most the limit; at worst, each of the two other processes strands 9 permits.
    for user in users:
        assert 200 - 2 * 9 <= allowed[user] <= 200, allowed


def test_a_process_asks_the_cache_once_per_block_and_not_at_all_once_refused(settings, counted):
    settings.API_RATE_LIMIT = "40/min"  # blocks of 2
    process = UserThrottle()
    user = uuid.uuid4()
    with time_machine.travel(START, tick=False):
        answers = [process.allow_request(request_by(user)) for _ in range(100)]
    assert answers == [True] * 40 + [False] * 60
    # 20 blocks of 2, then one that came back void; after that the refusals cost nothing.
    assert len(counted) == 21
    assert {amount for _, amount in counted} == {2}


def test_a_user_at_the_limit_is_refused_by_every_process(settings):
    settings.API_RATE_LIMIT = "100/min"  # blocks of 5
    first, second = UserThrottle(), UserThrottle()
    user = uuid.uuid4()
    with time_machine.travel(START, tick=False):
        assert sum(first.allow_request(request_by(user)) for _ in range(100)) == 100
        assert not second.allow_request(request_by(user))
        assert not first.allow_request(request_by(user))


def test_permits_end_with_their_window(settings, counted):
    settings.API_RATE_LIMIT = "100/min"
    process = UserThrottle()
    user = uuid.uuid4()
    with time_machine.travel(datetime(2026, 3, 10, 15, 0, 59, tzinfo=UTC), tick=False) as clock:
        assert process.allow_request(request_by(user))  # takes a block of 5, holds 4 more
        clock.move_to(datetime(2026, 3, 10, 15, 1, 0, tzinfo=UTC))
        assert process.allow_request(request_by(user))
    # The new minute's request claimed a block of its own, on the new minute's counter.
    assert len(counted) == 2
    assert counted[0][0] != counted[1][0]


def test_a_changed_limit_applies_at_once(settings):
    settings.API_RATE_LIMIT = "100/min"
    process = UserThrottle()
    user = uuid.uuid4()
    with time_machine.travel(START, tick=False):
        assert process.allow_request(request_by(user))  # holds 4 more permits of the old limit
        settings.API_RATE_LIMIT = "1/min"
        assert not process.allow_request(request_by(user))  # the counter already holds 5
