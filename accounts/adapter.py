import hashlib
from types import SimpleNamespace

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

# Wrong passwords for one account from one address: after this many within the window, that
# address may not try that account again until the window ends or the password is reset.
# Counted per address, so knowing someone's email is not enough to lock them out; the address
# limit (settings.ACCOUNT_RATE_LIMITS) and a looser limit per account bound guessing from many.
FAILURES_PER_ADDRESS = 5
FAILURE_WINDOW = 5 * 60


def _failures_key(adapter, request, credentials):
    """This account's count of wrong passwords from this request's address."""
    email = credentials.get("email", "").lower()
    address = adapter.get_client_ip(request)
    # The account's generation is in the key: a password reset starts every count afresh.
    generation = cache.get(f"login-generation:{email}", 0)
    raw = f"{email}\x1f{address}\x1f{generation}".encode()
    return "login-failures:" + hashlib.sha256(raw).hexdigest()


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Patients are registered by the practice; an open sign-up would only create empty accounts.
        return False

    def get_login_redirect_url(self, request):
        # A professional's day starts on their agenda; everyone else on their own sessions.
        if hasattr(request.user, "professional_profile"):
            return reverse("agenda")
        return super().get_login_redirect_url(request)

    def send_mail(self, template_prefix, email, context):
        # allauth names the site with django.contrib.sites, which this project does not install:
        # its stand-in is the request's host ("¡Hola de parte de 127.0.0.1:8801!"). Our emails
        # speak as the practice. The domain is its name too, so no template can show a host.
        site = SimpleNamespace(name=settings.SITE_NAME, domain=settings.SITE_NAME)
        request = allauth_context.request
        context = {"request": request, "email": email, **context, "current_site": site}
        message = self.render_mail(template_prefix, email, context)
        # Not sent here: written to the outbox (notifications), which the worker sends and
        # retries. With the mail server down the request still succeeds, and the message goes
        # out when the server is back. (Imported here: accounts does not depend on
        # notifications, which builds on it; only this hand-over points the other way.)
        from notifications.models import Outbox

        Outbox.queue_rendered(message, recipient=context.get("user"))

    def format_email_subject(self, subject):
        # Without ACCOUNT_EMAIL_SUBJECT_PREFIX allauth would prefix the request's host.
        prefix = app_settings.EMAIL_SUBJECT_PREFIX
        if prefix is None:
            prefix = f"[{settings.SITE_NAME}] "
        return prefix + str(subject)

    def pre_authenticate(self, request, **credentials):
        key = _failures_key(self, request, credentials)
        if cache.get(key, 0) >= FAILURES_PER_ADDRESS:
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        key = _failures_key(self, request, credentials)
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
