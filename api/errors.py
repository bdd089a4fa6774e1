"""The API's error texts and which errors mean "unavailable": what the API answers in its
envelope, and what the site's own error handlers answer for /api/ paths when an error happens before
the API's handlers run (reservations_site/views.py)."""

from django.db.utils import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# A service the request depends on being unreachable: temporary, so a 503, not a 500. That is the
# database; Redis errors too, should a cache ever raise them (the API's counters are set to
# ignore them, docs/operations.md). The site's handler500 answers the same way.
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)

# Messages for errors ninja raises itself (its own texts are English and terse).
ERROR_MESSAGES = {
    400: _("Invalid request."),
    401: _("Authentication required: log in or send an access token."),
    403: _("CSRF check failed: send the X-CSRFToken header with the CSRF cookie's value."),
    404: _("Not found."),
    405: _("Method not allowed."),
    413: _("The request body is too large."),
    422: _("Invalid data: check the fields and their format."),
    429: _("Too many requests: try again in a moment."),
    500: _("Something went wrong on our side. Try again later."),
    503: _("The service is temporarily unavailable. Try again in a moment."),
}
