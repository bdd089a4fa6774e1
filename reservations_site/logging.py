"""Every log line says which request it belongs to: request id, user id, path, UTC time.

Never log passwords, tokens, cancellation reasons or request bodies: only ids and paths.
"""

import contextvars
import logging
import re
import time
import uuid

_request = contextvars.ContextVar("request", default=None)
_request_id = contextvars.ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # A proxy's id is kept so logs can be joined across hops; anything odd is replaced.
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        tokens = (_request.set(request), _request_id.set(request_id))
        try:
            response = self.get_response(request)
        finally:
            _request.reset(tokens[0])
            _request_id.reset(tokens[1])
        response["X-Request-ID"] = request_id
        return response


class RequestContextFilter(logging.Filter):
    def filter(self, record):
        # django.request logs after the middleware has returned, but passes the request along.
        request = getattr(record, "request", None) or _request.get()
        record.request_id = getattr(request, "request_id", None) or _request_id.get()
        record.path = request.path if request is not None else "-"
        # Only a user already loaded for the request: logging must never query the database.
        user = getattr(request, "_cached_user", None)
        record.user_id = getattr(user, "pk", None) or "-"
        return True


# Control characters as escapes: \n, \r, \t by name, the others as \xNN.
_ESCAPES = {i: f"\\x{i:02x}" for i in [*range(32), 127]} | {10: "\\n", 13: "\\r", 9: "\\t"}


class UTCFormatter(logging.Formatter):
    """One line per event, in UTC. Every control character is escaped, whatever field it is in
    (a path, a message, a traceback): a line break or NUL in a requested path would otherwise
    write a forged log line of its own."""

    converter = time.gmtime

    def format(self, record):
        return super().format(record).translate(_ESCAPES)

    def formatTime(self, record, datefmt=None):  # noqa: N802 (logging's API)
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + (
            f".{int(record.msecs):03d}Z"
        )
