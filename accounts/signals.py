import logging
import time

from allauth.account.signals import password_reset
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import lockout

logger = logging.getLogger("turnos.security")


@receiver(user_login_failed)
def log_failed_login(sender, credentials, request=None, **kwargs):
    # The address, not the email typed: logs must not collect who tried which account.
    address = request.META.get("REMOTE_ADDR", "-") if request is not None else "-"
    logger.warning("login failed from %s", address)


@receiver(user_logged_in)
def start_idle_clock(sender, request, user, **kwargs):
    # Logging in counts as activity; the first page after it need not write the session again.
    if request is not None and hasattr(request, "session"):
        from .middleware import SessionIdleTimeoutMiddleware

        request.session[SessionIdleTimeoutMiddleware.KEY] = int(time.time())


@receiver(user_logged_in)
def remember_role_for_two_step_verification(sender, request, user, **kwargs):
    # Whether they are a professional, kept in the session (accounts/enrolment.py): imported
    # here, at login, since allauth's login stages cannot be imported while apps load.
    from .enrolment import remember_role

    remember_role(request, user)


@receiver(password_reset)
def lift_the_login_lock(sender, request, user, **kwargs):
    # Whoever could reset the password may try it: no address stays locked out of the account.
    lockout.forget_failed_logins(user.email)
