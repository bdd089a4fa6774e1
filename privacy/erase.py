"""Carrying out a deletion request (Ley 25.326, art. 16): anonymise what the law lets the practice
remove, keep what a law makes it keep.

Removed: the name, the email (a placeholder `deleted-<id>@invalid` takes its place: the column is
unique and the login), the phone, the free text of the patient's sessions and weekly series
(cancellation reasons people typed, internal notes, the session's own video link, the reasons on
their events and the notes' old values in them, the clashes noted on skipped dates), the bodies
and addresses of the messages sent to them, their calendar links (revoked), their email
addresses (allauth's), their sessions and second factors. The password is made unusable and the
account inactive: it can no longer log in.

Kept: the fact and time of each session (professional, start, end, status, modality,
attendance) and each event's what and when, as the record a health practice must keep; the
access log (who opened whose data: the practice's legal record, ids only); the request itself.

The patient is told first, in their language, at the address they had: the message is rendered
and queued in the outbox in the same transaction (the worker sends it; nothing is sent inside the
request), and keeps that one address as the record that they were told.

Not an action of reservations.actions: those are changes to sessions that the messages react to
(a cancel, a move); this changes no session's fact and tells only the patient, with its own
message. Its record is the DeletionRequest (who carried it out, when).
"""

from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.credentials import is_privileged
from calendars.models import FeedToken
from notifications.models import Kind, Outbox, State
from notifications.tasks import schedule
from reservations.models import ReasonCode, Reservation, ReservationEvent
from reservations.texts import long_date
from series.models import Series, SeriesEvent, SkippedOccurrence

from .models import DeletionRequest

# Free text in a session event's changes ({"field": [old, new]}): emptied.
FREE_TEXT_CHANGES = ("internal_notes", "cancellation_reason", "video_url")


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str

    def __str__(self):
        return str(self.message)


def placeholder_email(user):
    return f"deleted-{user.pk}@invalid"


def refusal(deletion, now=None):
    """Why this request cannot be carried out now, or None."""
    now = now or timezone.now()
    patient = deletion.patient
    if not deletion.is_open:
        return Refusal("not_open", _("This request has already been decided."))
    if is_privileged(patient):
        return Refusal(
            "not_a_patient",
            _("This is a staff or professional account: it is not deleted from here."),
        )
    if upcoming(patient, now).exists():
        return Refusal(
            "upcoming",
            _(
                "The patient has sessions ahead: cancel them first (they are told), then carry "
                "out the deletion."
            ),
        )
    return None


def upcoming(patient, now):
    return Reservation.objects.filter(client=patient, end_time__gt=now).active()


def carry_out(deletion, *, by, now=None):
    """Anonymise the patient of `deletion` and mark it carried out by `by` (a staff user).
    Returns None, or a Refusal (and changes nothing)."""
    now = now or timezone.now()
    found = refusal(deletion, now)
    if found:
        return found
    with transaction.atomic():
        locked = DeletionRequest.objects.select_for_update().filter(pk=deletion.pk).first()
        if locked is None or not locked.is_open:
            return Refusal("not_open", _("This request has already been decided."))
        patient = get_user_model().objects.select_for_update().get(pk=deletion.patient_id)
        if upcoming(patient, now).exists():  # booked meanwhile
            return refusal(deletion, now)
        farewell = _queue_farewell(patient, locked, now)
        _erase(patient, now, keep_message=farewell)
        DeletionRequest.objects.filter(pk=locked.pk).update(
            status=DeletionRequest.Status.DONE, decided_by=by, decided_at=now
        )
        transaction.on_commit(lambda: schedule([(farewell.pk, now)], now), robust=True)
    deletion.refresh_from_db()
    return None


def _queue_farewell(patient, deletion, now):
    """The message telling the patient, rendered now (in their language, while their name and
    address still exist) and queued for the worker."""
    language = patient.language or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(patient.zone):
        template = get_template("privacy/email/erased.html", using="django").template
        context = {
            "site_name": settings.SITE_NAME,
            "name": patient.first_name or patient.name,
            "requested": long_date(timezone.localtime(deletion.requested_at).date()),
            "contact": settings.PRACTICE_EMAIL or settings.PRACTICE_PHONE,
            "LANGUAGE_CODE": language,
        }
        subject = " ".join(
            template.render(Context({**context, "part": "subject"}, autoescape=False)).split()
        )
        text = template.render(Context({**context, "part": "text"}, autoescape=False)).strip()
        html = template.render(Context({**context, "part": "html"}))
    return Outbox.objects.create(
        kind=Kind.ACCOUNT,
        recipient=patient,
        to=patient.email,
        subject=subject[:300],
        body=text + "\n",
        html=html,
        next_attempt_at=now,
        created_at=now,
    )


def _erase(patient, now, *, keep_message):
    codes = list(ReasonCode.values)
    email = patient.email
    placeholder = placeholder_email(patient)

    # Sessions: the facts stay, the words go.
    sessions = Reservation.objects.filter(client=patient)
    sessions.exclude(cancellation_reason__in=codes).update(cancellation_reason="")
    sessions.update(internal_notes="", video_url="")
    events = ReservationEvent.objects.filter(reservation__client=patient)
    events.exclude(reason__in=codes).update(reason="")
    _clear_changes(events)
    series = Series.objects.filter(client=patient)
    series.update(end_reason="")
    SeriesEvent.objects.filter(series__client=patient).exclude(reason__in=codes).update(reason="")
    SkippedOccurrence.objects.filter(series__client=patient).update(reason="")

    # Messages: no address, no text; what waits is not sent.
    messages = Outbox.objects.filter(Q(recipient=patient) | Q(to__iexact=email)).exclude(
        pk=keep_message.pk
    )
    messages.filter(status=State.PENDING).update(status=State.SKIPPED, last_error="data deleted")
    messages.exclude(to="").update(to=placeholder)
    messages.filter(kind=Kind.ACCOUNT).update(subject="", body="", html="")

    # Ways in: calendar links, email addresses, sessions, second factors.
    FeedToken.objects.filter(user=patient, revoked_at__isnull=True).update(revoked_at=now)
    if apps.is_installed("allauth.account"):
        from allauth.account.models import EmailAddress

        EmailAddress.objects.filter(user=patient).delete()
    if apps.is_installed("allauth.mfa"):
        from allauth.mfa.models import Authenticator

        Authenticator.objects.filter(user=patient).delete()
    if apps.is_installed("allauth.usersessions"):
        from allauth.usersessions.models import UserSession

        for user_session in UserSession.objects.filter(user=patient):
            user_session.end()
    _end_sessions(patient, now)

    patient.first_name = patient.last_name = patient.phone = ""
    patient.email = placeholder
    patient.is_active = False
    patient.set_unusable_password()
    patient.save()


def _clear_changes(events):
    for event in events.filter(
        Q(changes__has_key="internal_notes")
        | Q(changes__has_key="cancellation_reason")
        | Q(changes__has_key="video_url")
    ):
        changes = {
            name: (["", ""] if name in FREE_TEXT_CHANGES else value)
            for name, value in event.changes.items()
        }
        ReservationEvent.objects.filter(pk=event.pk).update(changes=changes)


def _end_sessions(patient, now):
    """Delete the patient's login sessions (a new password hash ends them too, at their next
    request; this makes it now). The database's sessions have no user column: each live one is
    decoded, which a rare action can afford."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return
    from django.contrib.sessions.models import Session

    mine = [
        s.pk
        for s in Session.objects.filter(expire_date__gt=now).iterator()
        if s.get_decoded().get("_auth_user_id") == str(patient.pk)
    ]
    Session.objects.filter(pk__in=mine).delete()
