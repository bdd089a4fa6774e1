"""Django's PostgreSQL backend, without the health check for a connection used a moment ago.

With CONN_HEALTH_CHECKS, Django sends `SELECT 1` before the first query of every request that
reuses a persistent connection: a round trip and a statement on every logged-in request, a tenth
of a cached dashboard's throughput (docs/performance.md). A connection that answered less than
CONN_HEALTH_CHECK_DELAY seconds ago (settings; 0 checks every time, as Django does) is reused
unchecked, as pgbouncer's server_check_delay and HikariCP's alive-bypass window do. One idle for
longer, which is what a database restart leaves behind in a quiet hour, is still checked and
replaced. What this gives up: a connection dropped within that window fails the query of the
request that next uses it (a 503 the client may retry), and Django then replaces it.
"""

import time

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    used_at = float("-inf")  # time.monotonic() of the last check or query

    def close_if_health_check_failed(self):
        # Django calls this before every query and transaction.
        now = time.monotonic()
        if now - self.used_at < settings.CONN_HEALTH_CHECK_DELAY:
            self.health_check_done = True
        super().close_if_health_check_failed()
        self.used_at = now
