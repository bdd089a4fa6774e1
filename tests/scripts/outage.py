"""Drive the real WSGI handler (with Django's request signals, unlike the test client) through a
database outage. Run as: python tests/scripts/outage.py <scenario>; prints JSON lines."""

import json
import os
import sys
from io import BytesIO
from wsgiref.util import setup_testing_defaults

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reservations_site.settings")

import django  # noqa: E402

django.setup()

from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

app = WSGIHandler()


def request(method, path, headers=None, body=b"", content_type="application/x-www-form-urlencoded"):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": BytesIO(body)}
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["CONTENT_TYPE"] = content_type
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    environ["HTTP_HOST"] = "localhost"
    environ.setdefault("REMOTE_ADDR", "127.0.0.1")
    captured = {}

    def start_response(status, response_headers, exc_info=None):
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(response_headers)

    chunks = app(environ, start_response)
    body = b"".join(chunks).decode()
    if hasattr(chunks, "close"):
        chunks.close()
    print(json.dumps({"path": path, **captured, "body": body}))


if __name__ == "__main__":
    scenario = sys.argv[1]
    if scenario == "down":
        from django.conf import settings

        session = f"{settings.SESSION_COOKIE_NAME}=abcdefghijklmnopqrstuvwxyz012345"
        csrf = f"{settings.CSRF_COOKIE_NAME}={'a' * 32}"
        request("GET", "/healthz")
        request("GET", "/dashboard/", {"Cookie": session})
        request(
            "GET", "/api/reservations/00000000-0000-0000-0000-000000000000", {"Cookie": session}
        )
        request(
            "POST",
            "/reservations/00000000-0000-0000-0000-000000000000/cancel/",
            {
                "Cookie": f"{session}; {csrf}",
                "X-CSRFToken": "a" * 32,
                "HX-Request": "true",
            },
        )
        # An app logging in (allauth headless): JSON in, JSON out, outage or not.
        request(
            "POST",
            "/_allauth/app/v1/auth/login",
            body=json.dumps({"email": "lucia@example.com", "password": "x" * 12}).encode(),
            content_type="application/json",
        )
    elif scenario == "recover":
        import psycopg
        from django.db import connection

        request("GET", "/healthz")
        # Kill the server's connection from outside, as a database restart would.
        pid = connection.connection.info.backend_pid
        params = connection.settings_dict
        with psycopg.connect(
            host=params["HOST"],
            port=params["PORT"],
            user=params["USER"],
            dbname=params["NAME"],
            autocommit=True,
        ) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        request("GET", "/healthz")
        request("GET", "/healthz")
