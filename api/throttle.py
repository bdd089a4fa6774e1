"""The API's per-user rate limit: settings.API_RATE_LIMIT requests per user and window.

Counted by django-ratelimit in the "api" cache (Redis in production, shared by every server
process): one atomic add-or-increment per request, in fixed windows that end at a moment of
their own for each user. A fixed window lets a client reach twice the rate across a window's
edge; that still stops a runaway client, which is what it is for. While Redis is unreachable
nothing is counted and nothing is refused (settings.RATELIMIT_FAIL_OPEN).
"""

import threading

from django.conf import settings
from django_ratelimit.core import get_usage
from ninja.throttling import BaseThrottle


def _rate(group, request):
    # Read on each request, so a changed setting applies at once (tests change it).
    return settings.API_RATE_LIMIT


class UserThrottle(BaseThrottle):
    def __init__(self):
        # ninja asks wait() right after a refusal, on the same thread, of this one shared object.
        self._refused = threading.local()

    def allow_request(self, request):
        usage = get_usage(request, group="api", key="user", rate=_rate, increment=True)
        if usage is None:  # the cache did not answer (RATELIMIT_FAIL_OPEN): let it through
            return True
        self._refused.time_left = usage["time_left"]
        return not usage["should_limit"]

    def wait(self):
        # time_left is 0 in the window's last second: it renews a second after it reaches 0.
        return self._refused.time_left + 1
