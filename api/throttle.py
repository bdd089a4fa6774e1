"""The API's per-user rate limit: settings.API_RATE_LIMIT requests per user and window.

Counted in fixed windows (120/min means at most 120 in each calendar minute) in the shared cache
(Redis in production), so the limit holds across all server processes. A fixed window lets a
client reach twice the rate across a window's edge; that still stops a runaway client, which is
what it is for.

A Redis call on every request cost a quarter of a cached API answer's throughput in `make bench`
(docs/performance.md), so a process takes permits in blocks: one INCRBY of the user's counter by
the block size claims the permits numbered from the old count + 1 to the new count, and the
process spends them on that user's next requests without asking again. Permits numbered beyond
the limit are void, and every permit is claimed by one process only, so a user never gets more
than the limit in a window. Permits a process holds when the user's requests go to another one
are lost, so a user sending to N processes may be refused up to (N - 1) × (block - 1) requests
early. The block is a twentieth of the limit, so with 2 processes that is under 5%.
"""

import threading
import time

from django.conf import settings
from ninja.throttling import SimpleRateThrottle

from reservations_site.cache import count

# Blocks of this share of the limit: the error a user can see, per extra process.
BLOCKS_PER_LIMIT = 20


class UserThrottle(SimpleRateThrottle):
    """The setting is read on each request, so it can be changed (tests do). One instance serves
    every request and thread of a process: its permits are shared under a lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self._window = None
        # user pk -> permits this process holds in the current window; -1: none are left for
        # anyone (the counter only grows, so that stays true until the window ends).
        self._held = {}

    def allow_request(self, request):
        # Authentication runs first: only a known user reaches this.
        limit, duration = self.parse_rate(settings.API_RATE_LIMIT)
        number = int(time.time() // duration)
        window = (limit, duration, number)
        pk = request.user.pk
        with self._lock:
            if window != self._window:
                self._window, self._held = window, {}
            held = self._held.get(pk, 0)
            if held > 0:
                self._held[pk] = held - 1
                return True
            if held < 0:
                return False
        block = max(1, limit // BLOCKS_PER_LIMIT)
        total = count(f"api-throttle:{pk}:{duration}:{number}", duration, block)
        # This block is permits total - block + 1 .. total; those beyond the limit are void.
        claimed = min(block, limit - (total - block))
        with self._lock:
            if window == self._window:
                held = max(self._held.get(pk, 0), 0)
                if claimed > 0:
                    self._held[pk] = held + claimed - 1  # one is this request's
                elif held == 0:
                    self._held[pk] = -1
        return claimed > 0

    def wait(self):
        _, duration = self.parse_rate(settings.API_RATE_LIMIT)
        return duration - time.time() % duration

    def clear(self):
        """Forget the permits this process holds (tests, with the cache they came from)."""
        with self._lock:
            self._window, self._held = None, {}
