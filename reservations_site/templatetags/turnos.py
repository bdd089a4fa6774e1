"""{% load turnos %}: what the pages say about sessions.

The words Python code needs too (a day, a time, a session's "when") are reservations/texts.py's,
registered here as they are. The rest only pages need: the cancel button's labels, status badges,
zones, the labels of stored choices, and what a session is at `now` (a template cannot pass an
argument to a method, so `r|phase:now` stands for `r.phase(now)`).
"""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from accounts.models import initials, zone_city, zone_label
from reservations import texts
from reservations.actions import Role
from reservations.models import Modality, Phase, Status

register = template.Library()

register.filter("long_date", texts.long_date)
register.filter("turn_day", texts.turn_day)
register.filter("turn_day_of", texts.turn_day_of)
register.filter("turn_until", texts.turn_until)
register.filter("turn_time", texts.turn_time)
register.simple_tag(texts.turn_when, name="turn_when")
register.filter("initials", initials)
register.filter("zone_city", zone_city)
register.filter("zone_label", zone_label)


# A session at `now`


@register.filter
def phase(reservation, now):
    return reservation.phase(now)


@register.filter
def cancel_refusal(reservation, now):
    """Why the patient may not cancel it now (a Refusal), or None."""
    return reservation.cancel_refusal(now)


@register.filter
def cancel_refusal_by_professional(reservation, now):
    """Why its professional may not cancel it now, or None."""
    return reservation.cancel_refusal(now, Role.PROFESSIONAL)


@register.filter
def attendance_refusal(reservation, now):
    return reservation.attendance_refusal(now)


@register.filter
def join_url(reservation, now):
    return reservation.join_url(now)


@register.filter
def is_upcoming(reservation, now):
    return reservation.is_upcoming(now)


@register.filter
def occurrence(reservation):
    """The session's place in a weekly series (the series app's reverse relation), or None.
    `r.occurrence` in a template would raise for a session outside any series, and Django then
    calls dir() on the session to decide to hide the error: on every such row of a list."""
    return getattr(reservation, "occurrence", None)


# The label of a stored value


def _label(choices):
    """A filter giving a stored value's label, as get_FOO_display() does. That one builds a dict
    of every choice on each call: on ten rows, 0.4 ms of a 1.5 ms render (measured)."""

    def label(value):
        try:
            return choices(value).label
        except ValueError:
            return value

    return label


register.filter("modality_label", _label(Modality))


# Status badges: an icon and a word, never colour alone. Built here rather than in a template
# because a list shows one per row.

BADGE_ICONS = {
    "confirmed": "✓",
    "done": "✓",
    "cancelled": "✕",
    "late_cancelled": "✕",
    "declined": "✕",
    "rescheduled": "→",
    "absent": "✕",
    "in_progress": "●",
}


def badge(kind, text):
    return format_html(
        '<span class="badge badge--{}"><span class="badge__icon" aria-hidden="true">{}</span>{}'
        "</span>",
        kind,
        BADGE_ICONS.get(kind, "○"),
        text,
    )


@register.filter
def phase_badge(value):
    """A session as its patient reads it (reservations.models.Phase)."""
    return badge(value, Phase(value).label)


@register.simple_tag
def agenda_badge(r, now):
    """What a session is to its professional: ahead, pending or confirmed; once started, whether
    the patient came; or cancelled."""
    if r.status == Status.CANCELLED:
        return badge("cancelled", _("Cancelled"))
    if r.start_time > now:
        if r.status == Status.PENDING:
            return badge("pending", _("Pending"))
        return badge("confirmed", _("Confirmed"))
    if r.attended:
        return badge("done", _("Attended"))
    if r.attended is False:
        return badge("absent", _("Absent"))
    if r.end_time > now:
        return badge("in_progress", _("In progress"))
    return badge("unrecorded", _("Attendance not recorded"))


# Cancelling


def _day_of_and_start(reservation, now):
    return {
        "of_day": texts.turn_day_of(reservation.start_time, now),
        "start": texts.turn_time(reservation.start_time),
    }


@register.simple_tag
def cancel_label(reservation, now):
    """The cancel button's accessible name: 'Cancelar turno de mañana, 14:00'."""
    return _("Cancel session %(of_day)s, %(start)s") % _day_of_and_start(reservation, now)


@register.simple_tag
def cancel_question(reservation, now):
    """What the confirmation dialog asks the patient before a cancel."""
    return _("Cancel your session %(of_day)s, %(start)s? This cannot be undone.") % (
        _day_of_and_start(reservation, now)
    )


@register.simple_tag
def agenda_cancel_question(reservation, now):
    """What the confirmation dialog asks the professional before they cancel a session."""
    return _("Cancel the session with %(name)s %(of_day)s, %(start)s? This cannot be undone.") % {
        "name": reservation.client.name,
        **_day_of_and_start(reservation, now),
    }


@register.simple_tag
def cancel_deadline_text(reservation, now):
    """'Podés cancelar en línea hasta el martes 2 de septiembre a las 14:00.'"""
    return _("You can cancel online until %(when)s.") % {
        "when": texts.turn_until(reservation.cancel_deadline, now)
    }


# Zones


@register.simple_tag
def viewer_zone():
    """The zone every time on the page is shown in (the viewer's, set by the middleware)."""
    return timezone.get_current_timezone()


@register.simple_tag
def site_zone():
    """The practice's own zone (settings.TIME_ZONE)."""
    return timezone.get_default_timezone()


# Moves a patient asked for, while the session they would replace stands
register.simple_tag(texts.move_asked, name="move_asked")
register.simple_tag(texts.move_waiting, name="move_waiting")
register.simple_tag(texts.move_replaces, name="move_replaces")
