import sys
from datetime import UTC, timedelta

from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from api.errors import ERROR_MESSAGES, UNAVAILABLE_ERRORS


@require_safe
def security_txt(request):
    """/.well-known/security.txt (RFC 9116): whom to tell about a vulnerability. It expires a
    year from each request, so it never goes stale while the site runs."""
    expires = (timezone.now() + timedelta(days=365)).replace(microsecond=0)
    lines = [
        f"Contact: {settings.SECURITY_CONTACT}",
        f"Expires: {expires.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "Preferred-Languages: es, en",
        f"Canonical: {settings.SITE_URL.rstrip('/')}/.well-known/security.txt",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


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


def _logged_in(request):
    """Whether the way back is the dashboard or the login page; never an error of its own.

    By the time a handler runs, the middleware has loaded request.user (the session idle timeout
    reads it on every request), so this costs no query. Were it not loaded and the database down,
    the visitor gets the login page rather than a second error.
    """
    try:
        return request.user.is_authenticated
    except (AttributeError, DatabaseError, *UNAVAILABLE_ERRORS):
        return False


_JSON_CODES = {400: "invalid", 404: "not_found", 429: "too_many_requests"}


def _error_page(request, status, template, headers=None):
    """An error in the site's layout and the visitor's language (LocaleMiddleware has chosen it).

    Rendered without a request context: context processors would read the session and the user.
    """
    # Apps read JSON. (A 403 there is the API's or allauth's own answer, never this page's.)
    if request.path.startswith(("/api/", "/_allauth/")) and status in _JSON_CODES:
        return _json_error(request, status, _JSON_CODES[status], headers)
    context = {"site_name": settings.SITE_NAME, "logged_in": _logged_in(request)}
    body = loader.get_template(template).render(context)
    return HttpResponse(body, status=status, headers=headers)


def _json_error(request, status, code, headers):
    message = str(ERROR_MESSAGES[status])
    if request.path.startswith("/api/"):
        # The JSON API's envelope, even when the error happened before the API's own handlers.
        return JsonResponse({"status": status, "message": message}, status=status, headers=headers)
    # Apps logging in (allauth headless) read JSON: allauth's own error shape.
    body = {"status": status, "errors": [{"code": code, "message": message}]}
    return JsonResponse(body, status=status, headers=headers)


def bad_request(request, exception):
    return _error_page(request, 400, "errors/400.html")


def permission_denied(request, exception):
    """handler403: also what a patient or professional gets at /admin/ (secure_admin_login
    raises PermissionDenied for a logged-in user who is not staff)."""
    return _error_page(request, 403, "errors/403.html")


def page_not_found(request, exception):
    """handler404: one page for an unknown address, a missing id and someone else's id."""
    return _error_page(request, 404, "errors/404.html")


def too_many_requests(request):
    """handler429, which allauth looks up in the URLconf when a rate limit refuses a page."""
    return _error_page(request, 429, "errors/429.html")


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
    if request.path.startswith(("/api/", "/_allauth/")):
        code = "unavailable" if unavailable else "server_error"
        return _json_error(request, status, code, headers)
    if request.headers.get("HX-Request") == "true":
        template = "errors/fragment.html"
    else:
        template = "errors/503.html" if unavailable else "errors/500.html"
    # No way back that depends on the user: reading it could be what fails.
    context = {"unavailable": unavailable, "site_name": settings.SITE_NAME}
    body = loader.get_template(template).render(context)
    return HttpResponse(body, status=status, headers=headers)
