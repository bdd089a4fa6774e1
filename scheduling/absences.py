"""An absence (TimeOff) over sessions already booked: the rule the agenda's hours page, the
admin's absence form and reception's range cancel all follow.

The sessions inside it are listed first; then they are either cancelled, with a message their
patients read (one action: each patient gets one email, however many of their sessions it
cancels), or kept because the person said so. They are never left in place silently. An absence
with nothing inside is simply saved.
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from reservations.actions import ActionKind, recording
from reservations.models import Reservation, clean_reason

from .models import save_schedule


class Decision(models.TextChoices):
    CANCEL = "cancel", _("Cancel them, and tell each patient why")
    KEEP = "keep", _("Keep them: the sessions take place")


def sessions_inside(professional, start, end, now):
    """The professional's sessions not cancelled that overlap [start, end) and have not started,
    earliest first: what an absence there would otherwise leave in place. (One that has started
    is no longer the absence's to cancel.)"""
    return list(
        Reservation.objects.active()
        .filter(professional=professional, start_time__lt=end, end_time__gt=start)
        .filter(start_time__gt=now)
        .select_related("client", "professional__professional_profile")
        .order_by("start_time", "pk")
    )


def session_ids(sessions):
    """The ids a person was shown, as the form carries them back."""
    return ",".join(str(r.pk) for r in sessions)


class SessionsInside(ValidationError):
    """There are sessions inside the absence that the person has not decided about (or not these:
    one was booked or cancelled since they saw the list). Nothing was saved; `sessions` is the
    list as it is now."""

    def __init__(self, sessions):
        self.sessions = sessions
        super().__init__(
            _("Sessions fall inside this absence: decide whether to cancel or keep them."),
            code="sessions_inside",
        )


def save_absence(row, *, by, decision="", reason="", seen=(), now=None):
    """Save `row` (a TimeOff, new or changed) as an action of `by` (an Actor), and decide on the
    sessions inside it.

    With sessions inside, `seen` must hold exactly their ids (as text or not) as the person was
    shown them, and `decision` say what to do: Decision.CANCEL cancels each through
    Reservation.cancel with `reason` (the patients read it), all in one action; Decision.KEEP
    leaves them. Otherwise SessionsInside is raised and nothing is saved. Returns the sessions
    cancelled.
    """
    now = now or timezone.now()
    reason = clean_reason(reason)
    with transaction.atomic():
        inside = sessions_inside(row.professional_id, row.start, row.end, now)
        shown = {str(pk) for pk in seen}
        if inside and ({str(r.pk) for r in inside} != shown or decision not in Decision.values):
            raise SessionsInside(inside)
        if inside and decision == Decision.CANCEL and not reason:
            raise ValidationError(
                {"message": _("Write the message the patients will read.")}, code="reason"
            )
        save_schedule(row, by=by)
        cancelled = []
        if inside and decision == Decision.CANCEL:
            with recording(ActionKind.CANCEL, by=by, at=now, reason=reason) as action:
                for r in inside:
                    if r.cancel(by=by, reason=reason, now=now, within=action) is None:
                        cancelled.append(r)
    return cancelled


def cancelled_text(cancelled):
    """What the person who added the absence reads about the sessions it cancelled, or ""."""
    count = len(cancelled)
    if not count:
        return ""
    return ngettext(
        "%(n)d session cancelled: its patient was told why.",
        "%(n)d sessions cancelled: each patient was told why.",
        count,
    ) % {"n": count}
