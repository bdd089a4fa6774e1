import logging

from allauth.account.signals import password_changed, password_reset, password_set
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import lockout, sessions

logger = logging.getLogger("turnos.security")


@receiver(user_login_failed)
def log_failed_login(sender, credentials, request=None, **kwargs):
    # The address, not the email typed: logs must not collect who tried which account.
    address = request.META.get("REMOTE_ADDR", "-") if request is not None else "-"
    logger.warning("login failed from %s", address)


@receiver(user_logged_in)
def start_the_session_clocks(sender, request, user, **kwargs):
    # The login time (the absolute lifetime's start) and the first last-seen time: logging in
    # counts as activity, so the first page after it need not write the session again.
    if request is not None and hasattr(request, "session"):
        sessions.begin(request.session, user, app=sessions.is_app_request(request))


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


@receiver(password_changed)
@receiver(password_set)
def end_the_other_sessions(sender, request, user, **kwargs):
    # Django's session hash already refuses the other sessions at their next request; ending
    # them also takes them off the person's list of sessions and ends an app's tokens at once.
    # The session that changed the password stays.
    sessions.end_others(user, request.session.session_key if request is not None else None)


@receiver(password_reset)
def end_every_session(sender, request, user, **kwargs):
    # Whoever reset it may not be the one logged in elsewhere (a lost phone): all of them end.
    sessions.end_others(user, None)
