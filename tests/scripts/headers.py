"""Print the production security headers and cookies of the login page as JSON.
Run with DEBUG=0 and the production environment; needs no database."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reservations_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# This checks headers, not static files: no collectstatic manifest is needed for that.
settings.STORAGES["staticfiles"]["BACKEND"] = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
)
from django.test import Client  # noqa: E402

response = Client().get("/accounts/login/", secure=True, headers={"host": "turnos.example"})
cookies = {
    name: {
        "secure": bool(m["secure"]),
        "httponly": bool(m["httponly"]),
        "path": m["path"],
        "domain": m["domain"],
        "samesite": m["samesite"],
    }
    for name, m in response.cookies.items()
}
print(
    json.dumps(
        {
            "status": response.status_code,
            "headers": dict(response.headers),
            "cookies": cookies,
            "session_cookie": [
                settings.SESSION_COOKIE_NAME,
                settings.SESSION_COOKIE_SECURE,
                settings.SESSION_COOKIE_HTTPONLY,
            ],
            "insecure_redirect": Client()
            .get("/accounts/login/", headers={"host": "turnos.example"})
            .status_code,
            # What a load balancer's plain-HTTP health probe gets.
            "probes": {
                path: Client().get(path, headers={"host": "turnos.example"}).status_code
                for path in ("/livez", "/healthz")
            },
        }
    )
)
