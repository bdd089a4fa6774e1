"""How django-allauth behaves on this site: sign-up closed (the practice registers its patients),
professionals land on their agenda, account emails speak as the practice, in the reader's
language, and go through the outbox, logging in switches to the person's language, and wrong
passwords lock an account per address (accounts/lockout.py)."""

from types import SimpleNamespace

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from accounts import lockout
from accounts.middleware import use_language
from notifications.models import Outbox


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
        recipient = context.get("user") or self.user_of(email)
        # In the reader's language when they have chosen one; else the page's (whoever asked
        # for a password link is at this browser).
        language = getattr(recipient, "language", "") or translation.get_language()
        with translation.override(language):
            message = self.render_mail(template_prefix, email, context)
        # Not sent here: written to the outbox (notifications), which the worker sends and
        # retries. With the mail server down the request still succeeds, and the message goes
        # out when the server is back.
        Outbox.queue_rendered(message, recipient=recipient)

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        # allauth's security notices (password changed, two-step verification turned on...)
        # name their reader to send_mail, as its other emails do.
        super().send_notification_mail(
            template_prefix, user, {"user": user, **(context or {})}, email
        )

    @staticmethod
    def user_of(email):
        """The account an email address belongs to, or None (an address nobody has)."""
        return get_user_model().objects.filter(email__iexact=email).first()

    def login(self, request, user):
        super().login(request, user)
        # The rest of this request (the "logged in" message, the redirect) in their language.
        use_language(request, user)

    def format_email_subject(self, subject):
        # Without ACCOUNT_EMAIL_SUBJECT_PREFIX allauth would prefix the request's host.
        prefix = app_settings.EMAIL_SUBJECT_PREFIX
        if prefix is None:
            prefix = f"[{settings.SITE_NAME}] "
        return prefix + str(subject)

    def pre_authenticate(self, request, **credentials):
        if lockout.is_locked(credentials.get("email", ""), self.get_client_ip(request)):
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        lockout.count_failure(credentials.get("email", ""), self.get_client_ip(request))

    def get_login_stages(self):
        # After allauth's (the second step among them): an app gets no token for someone who
        # must set up two-step verification first (accounts/enrolment.py).
        return [*super().get_login_stages(), "accounts.enrolment.EnrolmentStage"]
