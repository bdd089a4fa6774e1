"""Wrong passwords lock an account per address: after FAILURES_PER_ADDRESS within the window,
that address may not try that account again until the window ends or the password is reset.
Counted per address, so knowing someone's email is not enough to lock them out; the address limit
(settings.ACCOUNT_RATE_LIMITS) and a looser limit per account bound guessing from many.
Used by the site's allauth adapter (reservations_site/adapter.py) and lifted by a reset
(accounts/signals.py)."""

import hashlib

from django.core.cache import cache

FAILURES_PER_ADDRESS = 5
FAILURE_WINDOW = 5 * 60


def _failures_key(email, address):
    """This account's count of wrong passwords from this address."""
    email = email.lower()
    # The account's generation is in the key: a password reset starts every count afresh.
    generation = cache.get(f"login-generation:{email}", 0)
    raw = f"{email}\x1f{address}\x1f{generation}".encode()
    return "login-failures:" + hashlib.sha256(raw).hexdigest()


def is_locked(email, address):
    return cache.get(_failures_key(email, address), 0) >= FAILURES_PER_ADDRESS


def count_failure(email, address):
    key = _failures_key(email, address)
    cache.add(key, 0, FAILURE_WINDOW)
    try:
        cache.incr(key)
    except ValueError:  # it expired in between: this failure starts a new window
        cache.add(key, 1, FAILURE_WINDOW)


def forget_failed_logins(email):
    """Start every address's count for this account afresh (after a password reset)."""
    key = f"login-generation:{email.lower()}"
    cache.add(key, 0, None)
    cache.incr(key)


def delete_expired(now=None):
    """Delete the expired rows of the login counters' table (the database cache), which its
    culling never does while it holds fewer than MAX_ENTRIES (set beyond reach, so that no live
    lock is ever culled: settings.CACHES). The worker's sweep calls this. Returns how many."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    config = settings.CACHES["default"]
    if config["BACKEND"] != "django.core.cache.backends.db.DatabaseCache":
        return 0
    now = (now or timezone.now()).replace(microsecond=0)
    table = connection.ops.quote_name(config["LOCATION"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE expires < %s",  # noqa: S608 (the table is our setting)
            [connection.ops.adapt_datetimefield_value(now)],
        )
        return cursor.rowcount
