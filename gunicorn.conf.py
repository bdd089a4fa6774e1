"""gunicorn settings for `make serve` with SERVER=gunicorn (docs/performance.md compares servers).

Everything tunable comes from the environment; the defaults suit a 2-core machine.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# The dashboard is CPU-bound (template rendering) with short database waits: about one worker
# per core plus one covers the waits without making the cores thrash.
workers = int(os.environ.get("WEB_CONCURRENCY") or "3")
# THREADS > 1 switches to the gthread worker (keep-alive, one DB connection per thread).
threads = int(os.environ.get("THREADS") or "1")
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("TIMEOUT") or "30")
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = int(os.environ.get("MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Import Django once in the master: workers fork with the code already loaded (less memory).
preload_app = True
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
