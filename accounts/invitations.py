"""Inviting someone to choose their password: the practice registers a patient (or a superuser a
professional or a staff member) and sends them a link of their own, in their language, that names
who invites them and to what.

The link carries the invitation's id, signed with the site's key (django.core.signing, its own
salt): it cannot be made up or changed, and it carries no secret of the account. What it may do
is the row's to say (Invitation.opens_for): for seven days, once, while it is the person's newest
invitation and their address is still the one it went to. Setting the password proves the
address, so it is marked verified.

The email goes through allauth's adapter, like every account email: to the outbox, sent by the
worker, its text wiped once sent (notifications.models.Outbox.carries_secret).
"""

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core.context import request_context
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from . import lockout, sessions
from .models import Invitation, User

SALT = "accounts.invitations"

TEMPLATE_PREFIX = "account/email/invitation"


class Role:
    PATIENT, PROFESSIONAL, STAFF = "patient", "professional", "staff"


def role_of(user):
    """What the invitation is to: a professional's agenda, the reception desk, a patient's
    sessions."""
    if hasattr(user, "professional_profile"):
        return Role.PROFESSIONAL
    return Role.STAFF if user.is_staff else Role.PATIENT


def key_of(invitation):
    return signing.Signer(salt=SALT).sign(str(invitation.pk))


def find(key):
    """The invitation a link names, or None for a link that was never made here."""
    try:
        pk = int(signing.Signer(salt=SALT).unsign(key))
    except (signing.BadSignature, ValueError):
        return None
    return Invitation.objects.select_related("user").filter(pk=pk).first()


def send(user, *, by, request):
    """Invite `user` (an active account) to choose a password: a new invitation, which retires
    any earlier link, and its email. Returns the invitation, or None for an inactive user. Who
    may invite whom is the caller's to check (accounts.credentials.may_manage_credentials)."""
    if not user.is_active:
        return None
    now = timezone.now()
    with transaction.atomic():
        # Two sends at once (a double click) would each retire only the links before both.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        Invitation.objects.filter(
            user=user, accepted_at__isnull=True, replaced_at__isnull=True
        ).update(replaced_at=now)
        invitation = Invitation.objects.create(
            user=user, invited_by=by, email=user.email, created_at=now
        )
        url = request.build_absolute_uri(reverse("account_invitation", args=[key_of(invitation)]))
        context = {
            "user": user,
            "role": role_of(user),
            "inviter": by.name if by else "",
            "invitation_url": url,
            "expires_at": invitation.expires_at,
            "days": Invitation.MAX_AGE.days,
            "practice_phone": settings.PRACTICE_PHONE,
            "practice_email": settings.PRACTICE_EMAIL,
        }
        # The reader's language (blank: the site's, not that of whoever clicked) and zone. The
        # adapter finds the request in allauth's context, which after a commit may be gone.
        language = user.language or settings.LANGUAGE_CODE
        with (
            request_context(request),
            translation.override(language),
            timezone.override(user.zone),
        ):
            get_adapter(request).send_mail(TEMPLATE_PREFIX, user.email, context)
    return invitation


def accept(invitation, form, now):
    """Set the password from `form` (a SetPasswordForm for the invitation's user, valid) if the
    invitation still opens the account, taking it by a conditional update so that a link works
    once even when sent twice at the same moment. Returns whether it did."""
    user = invitation.user
    with transaction.atomic():
        taken = Invitation.objects.filter(
            pk=invitation.pk,
            accepted_at__isnull=True,
            replaced_at__isnull=True,
            created_at__gt=now - Invitation.MAX_AGE,
        ).update(accepted_at=now)
        if not taken:
            return False
        form.save()
        _verify(user)
    # Whoever had the account before (an earlier password) is logged out everywhere, and a lock
    # from wrong passwords is lifted: the link proved the address.
    sessions.end_others(user, None)
    lockout.forget_failed_logins(user.email)
    return True


def _verify(user):
    """The address the link went to is the person's, verified and primary."""
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
        EmailAddress.objects.create(
            user=user, email=user.email, verified=True, primary=not has_primary
        )
        return
    if not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    if not address.primary:
        address.set_as_primary()
