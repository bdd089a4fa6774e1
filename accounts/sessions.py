"""How long a session lasts, and ending a person's sessions.

A session ends after SESSION_IDLE_TIMEOUT seconds without a request, or SESSION_MAX_AGE seconds
after its login, whichever comes first; staff and professionals have their own, shorter limits
(the _STAFF settings). The session keeps what the rule needs: its login time, its last-seen time
(rewritten at most once a minute) and whether the stricter limits apply (refreshed with the
last-seen time, so a change of role holds within a minute).

A browser's session is checked on each request by accounts.middleware.SessionTimeoutMiddleware,
which says why it ended. An app's session (the one behind its JWTs, allauth headless) never
passes that middleware: its row in the database expires instead, `idle` after its login or its
last token refresh and never later than its absolute end, and allauth's stateful JWT validation
then refuses its access and refresh tokens.

This module is also the SESSION_ENGINE: Django's database sessions, whose expiry date never
passes a session's absolute end when one is recorded (an app's sessions record one).
"""

import time
from datetime import UTC, datetime

from allauth.headless.constants import Client
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

LOGIN_AT = "_login_at"
LAST_SEEN = "_last_seen"
STRICT = "_strict"
ENDS_AT = "_ends_at"
# How often the last-seen time is rewritten: an active person costs a session write a minute,
# not one per request. The idle timeout is counted to the minute.
LAST_SEEN_EVERY = 60

IDLE = "idle"
EXPIRED = "expired"


def strict(user):
    """Whether the shorter limits apply: staff and professionals."""
    return bool(user.is_staff or hasattr(user, "professional_profile"))


def limits(is_strict):
    """(idle timeout, absolute lifetime) in seconds."""
    if is_strict:
        return settings.SESSION_IDLE_TIMEOUT_STAFF, settings.SESSION_MAX_AGE_STAFF
    return settings.SESSION_IDLE_TIMEOUT, settings.SESSION_MAX_AGE


def is_app_request(request):
    """A login through allauth headless's app client: its session is the one behind the tokens."""
    headless = getattr(getattr(request, "allauth", None), "headless", None)
    return getattr(headless, "client", None) == Client.APP


def begin(session, user, *, app=False, now=None):
    """Start the clocks of a session that has just logged `user` in."""
    now = int(now if now is not None else time.time())
    is_strict = strict(user)
    session[LOGIN_AT] = now
    session[LAST_SEEN] = now
    session[STRICT] = is_strict
    if app:
        idle, max_age = limits(is_strict)
        # The database row expires `idle` after each save (the login, then each token refresh),
        # and never after the absolute end (SessionStore below).
        session[ENDS_AT] = now + max_age
        session.set_expiry(idle)


def why_ended(session, user, now):
    """IDLE or EXPIRED when the session is over by its rule, else None. A session from before
    login times were recorded has its lifetime counted from when it is first seen."""
    is_strict = session.get(STRICT)
    if is_strict is None:  # a session from before roles were recorded
        is_strict = strict(user)
    idle, max_age = limits(is_strict)
    last_seen = session.get(LAST_SEEN)
    if last_seen is not None and now - last_seen > idle:
        return IDLE
    login_at = session.get(LOGIN_AT)
    if login_at is not None and now - login_at > max_age:
        return EXPIRED
    return None


def needs_stamp(session, now):
    """Whether this request should rewrite the last-seen time (and the role)."""
    last_seen = session.get(LAST_SEEN)
    return (
        last_seen is None
        or now - last_seen >= LAST_SEEN_EVERY
        or LOGIN_AT not in session
        or STRICT not in session
    )


def stamp(session, user, now):
    session[LAST_SEEN] = now
    session[STRICT] = strict(user)
    session.setdefault(LOGIN_AT, now)


def end_all(user):
    """End every session of `user`, browser and app: allauth.usersessions' rows through its
    adapter (the documented way), then any session it does not know of (one from before it was
    installed), found by reading the live sessions. Returns how many ended."""
    from allauth.usersessions.adapter import get_adapter
    from allauth.usersessions.models import UserSession

    tracked = list(UserSession.objects.filter(user_id=user.pk))
    get_adapter().end_sessions(tracked)
    ended = {s.session_key for s in tracked}
    # An admin's rare action: it reads the live sessions allauth does not list (a session is
    # listed at its login, or within a minute of activity), so its cost grows with those.
    user_id = str(user.pk)
    store = SessionStore()
    stale = []
    unlisted = Session.objects.filter(expire_date__gt=timezone.now()).exclude(
        session_key__in=UserSession.objects.values("session_key")
    )
    for key, data in unlisted.values_list("session_key", "session_data"):
        if store.decode(data).get(SESSION_KEY) == user_id:
            stale.append(key)
    Session.objects.filter(session_key__in=stale).delete()
    return len(ended | set(stale))


def end_others(user, current_key):
    """End every session of `user` but the one whose key is `current_key` (None: all)."""
    from allauth.usersessions.adapter import get_adapter
    from allauth.usersessions.models import UserSession

    others = UserSession.objects.filter(user_id=user.pk).exclude(session_key=current_key or "")
    get_adapter().end_sessions(list(others))


class SessionStore(db.SessionStore):
    """Django's database sessions, never expiring after the session's absolute end (ENDS_AT),
    when it has one."""

    def get_expiry_date(self, **kwargs):
        date = super().get_expiry_date(**kwargs)
        ends_at = self.get(ENDS_AT)
        if ends_at is None:
            return date
        return min(date, datetime.fromtimestamp(ends_at, UTC))

    def get_expiry_age(self, **kwargs):
        age = super().get_expiry_age(**kwargs)
        ends_at = self.get(ENDS_AT)
        if ends_at is None:
            return age
        modification = kwargs.get("modification") or timezone.now()
        return max(0, min(age, int(ends_at - modification.timestamp())))
