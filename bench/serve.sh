#!/usr/bin/env bash
# `make serve`: the site the way production runs it (DEBUG=0, collected and compressed static
# files, persistent database connections, a real WSGI server). See docs/performance.md.
#
#   SERVER=granian|gunicorn   which server (granian measured best here)
#   WEB_CONCURRENCY           worker processes (default 2: one per core)
#   THREADS                   threads per worker (default 4 for granian, 1 for gunicorn;
#                             gunicorn with THREADS>1 uses gthread workers)
#   TIMEOUT                   seconds before a stuck request's worker is killed (gunicorn)
#   HOST, PORT                where to listen (default 127.0.0.1:8000)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"

export DEBUG=0
if [ -z "${SECRET_KEY:-}" ]; then
  # A local default that survives restarts (sessions stay valid); never committed.
  [ -s .secret_key ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >.secret_key
  SECRET_KEY=$(cat .secret_key)
  export SECRET_KEY
fi
if [ -z "${ALLOWED_HOSTS:-}" ]; then
  # Nothing configured: serve loopback over plain HTTP. A real deployment sets ALLOWED_HOSTS
  # and keeps the HTTPS redirect on (TLS at a proxy, SECURE_PROXY_SSL_HEADER=1).
  export ALLOWED_HOSTS=127.0.0.1,localhost
  export SECURE_SSL_REDIRECT=${SECURE_SSL_REDIRECT:-0}
fi
export HOST=${HOST:-127.0.0.1} PORT=${PORT:-8000}
SERVER=${SERVER:-granian}

# Migrations are a release step of their own (`make migrate`): the server starts, and answers
# 503 until the database is back, even while the database is down.
"$PY" manage.py collectstatic --noinput -v0

echo "Serving with $SERVER on http://$HOST:$PORT/ (DEBUG=0)"
case "$SERVER" in
  granian)
    # WSGI, one process per core. Granian's default of hundreds of blocking threads per worker
    # would each open a persistent database connection; four per worker overlap database waits
    # (measured better than two) and keep 2 workers at 8 connections, far below
    # PostgreSQL's max_connections.
    exec "$VENV/bin/granian" --interface wsgi --host "$HOST" --port "$PORT" \
      --workers "${WEB_CONCURRENCY:-2}" --blocking-threads "${THREADS:-4}" \
      --backpressure "${BACKPRESSURE:-${THREADS:-4}}" \
      --respawn-failed-workers --no-access-log \
      reservations_site.wsgi:application
    ;;
  gunicorn)
    exec "$VENV/bin/gunicorn" -c gunicorn.conf.py reservations_site.wsgi
    ;;
  *)
    echo "SERVER must be granian or gunicorn, not $SERVER" >&2
    exit 2
    ;;
esac
