import sys

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from api.api import ERROR_MESSAGES, UNAVAILABLE_ERRORS


@never_cache
@require_safe
def livez(request):
    """The process answers. No database: this is also the benchmark's ceiling."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def healthz(request):
    """For load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse(
            {"status": "unavailable", "database": "down"}, status=503, headers={"Retry-After": "30"}
        )
    return JsonResponse({"status": "ok", "database": "ok"})


def server_error(request):
    """handler500: a plain page, no stack trace, nothing that needs the database.

    If the error came from the database or Redis (down, unreachable, timing out), say so with a
    503 and Retry-After: the site recovers by itself when they return (database connections are
    health checked before reuse).
    """
    exc = sys.exc_info()[1]
    unavailable = isinstance(exc, UNAVAILABLE_ERRORS)
    status = 503 if unavailable else 500
    headers = {"Retry-After": "30"} if unavailable else {}
    message = str(ERROR_MESSAGES[status])
    if request.path.startswith("/api/"):
        # The JSON API's envelope, even when the error happened before the API's own handlers.
        return JsonResponse({"status": status, "message": message}, status=status, headers=headers)
    if request.path.startswith("/_allauth/"):
        # Apps logging in (allauth headless) read JSON: allauth's own error shape.
        code = "unavailable" if unavailable else "server_error"
        body = {"status": status, "errors": [{"code": code, "message": message}]}
        return JsonResponse(body, status=status, headers=headers)
    if request.headers.get("HX-Request") == "true":
        template = "errors/fragment.html"
    else:
        template = "errors/503.html" if unavailable else "errors/500.html"
    body = loader.get_template(template).render({"unavailable": unavailable})
    return HttpResponse(body, status=status, headers=headers)
