import time
from urllib.parse import urlsplit

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import resolve_url
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from . import sessions


class UserTimezoneMiddleware:
    """Show every time in the logged-in user's own zone (the site's zone for everyone else)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.zone)
        else:
            timezone.deactivate()
        return self.get_response(request)


class UserLanguageMiddleware:
    """Speak the logged-in person's language (user.language), whatever the browser's cookie or
    Accept-Language say: the one their emails, reminders and calendar feed speak too. After
    LocaleMiddleware, which chose from the cookie and the browser: that choice stays for
    anonymous visitors and for a person who has not chosen one (blank). LocaleMiddleware's
    response half then writes Content-Language for the language active here, and Vary:
    Accept-Language as always. request.user is loaded already (the zone above): no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            use_language(request, user)
        return self.get_response(request)


def use_language(request, user):
    """This request goes on in `user`'s language, when they have chosen one (also the rest of
    a login's request: its message, the redirect)."""
    # A value the site does not speak (a row written by hand) leaves LocaleMiddleware's choice.
    if user.language in dict(settings.LANGUAGES):
        translation.activate(user.language)
        request.LANGUAGE_CODE = translation.get_language()


class SessionTimeoutMiddleware:
    """End a session idle or too old for its role (accounts/sessions.py), and say why.

    After it: a page that needs a login sends to it with ?next= the page (login_required does);
    a form posted from a page goes back to that page after the login (never to the POST's own
    URL, which has no page); htmx gets HX-Redirect to the login page, not a login form inside a
    fragment; the API answers 401 itself. The last-seen time is rewritten at most once a minute,
    with the row allauth.usersessions lists, so an active person costs those writes once a
    minute, not on each request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            reason = sessions.why_ended(session, request.user, now)
            if reason:
                return self.end(request, reason)
            if sessions.needs_stamp(session, now):
                sessions.stamp(session, request.user, now)
                self.seen(request)
        return self.get_response(request)

    @staticmethod
    def seen(request):
        """The last-seen time and address of this session in allauth.usersessions' list; a
        session it does not know yet (logged in before it was installed) is added."""
        from allauth.usersessions.models import UserSession

        key = request.session.session_key
        try:
            # The address as allauth sees it (its trusted proxies), as its list has it.
            address = get_adapter().get_client_ip(request)
        except PermissionDenied:  # no address to tell (a malformed X-Forwarded-For)
            return
        if key is None:
            return
        seen = UserSession.objects.filter(session_key=key, user_id=request.user.pk).update(
            last_seen_at=timezone.now(), ip=address
        )
        if not seen:
            UserSession.objects.create_from_request(request)

    def end(self, request, reason):
        back = self.where_to_return(request)
        logout(request)
        if reason == sessions.IDLE:
            text = _("Your session ended after inactivity. Please log in again.")
        else:
            text = _("Your session reached its time limit. Please log in again.")
        messages.info(request, text)
        login_url = resolve_url(settings.LOGIN_URL)
        if back:
            # As login_required writes it (redirect_to_login).
            query = QueryDict(mutable=True)
            query[REDIRECT_FIELD_NAME] = back
            login_url = f"{login_url}?{query.urlencode(safe='/')}"
        if request.htmx:
            return HttpResponseClientRedirect(login_url)
        if request.method in ("GET", "HEAD") or self.is_api(request):
            # The page itself decides: login_required sends to the login with ?next=, the API
            # answers 401.
            return self.get_response(request)
        return HttpResponseRedirect(login_url)

    @staticmethod
    def where_to_return(request):
        """The page to come back to after logging in again: this one for a plain GET; the page
        an htmx request or a form came from when it is on this site; else none (the login then
        leads to the person's home page)."""
        if request.htmx:
            candidate = request.htmx.current_url_abs_path or request.headers.get("Referer")
        elif request.method in ("GET", "HEAD"):
            return request.get_full_path()
        else:
            candidate = request.headers.get("Referer")
        if not candidate or not url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return None
        parts = urlsplit(candidate)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @staticmethod
    def is_api(request):
        try:
            return resolve(request.path_info).namespace == "api"
        except Resolver404:
            return False
