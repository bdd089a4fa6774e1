"""A session's day and time as people say them ("martes 10 de marzo", "hoy a las 14:00").

Plain functions for Python code (emails, the series' labels, the doors' views); the templates get
them as filters and tags from reservations_site/templatetags/turnos.py. The core has no pages, so
nothing here knows about templates."""

from datetime import timedelta
from functools import lru_cache

from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _

# Weekday names, Monday first. The same msgids as Django's own, so our catalog overrides them:
# Django's es_AR catalog has "Domingo" capitalised among lower-case days.
WEEKDAYS = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]
# Month names, the msgids of Django's own: our catalog says "septiembre" where Django's es_AR says
# "setiembre".
MONTHS = [
    gettext_lazy("January"),
    gettext_lazy("February"),
    gettext_lazy("March"),
    gettext_lazy("April"),
    gettext_lazy("May"),
    gettext_lazy("June"),
    gettext_lazy("July"),
    gettext_lazy("August"),
    gettext_lazy("September"),
    gettext_lazy("October"),
    gettext_lazy("November"),
    gettext_lazy("December"),
]


def _day(value, now):
    """('today' | 'tomorrow' | 'yesterday' | 'date', text) in the active (viewer's) time zone."""
    day = timezone.localtime(value).date()
    today = timezone.localtime(now or timezone.now()).date()
    return _day_label(day, today, get_language())


# Localized date formatting is slow, and a row's day is formatted up to three times (its text and
# its cancel button's labels). The label depends only on the two dates and the language, so it is
# computed once per combination: it says nothing about anyone.
@lru_cache(maxsize=4096)
def _day_label(day, today, language):
    if day == today:
        return "today", _("today")
    if day == today + timedelta(days=1):
        return "tomorrow", _("tomorrow")
    if day == today - timedelta(days=1):
        return "yesterday", _("yesterday")
    return "date", long_date(day, with_year=day.year != today.year)


def long_date(day, with_year=True):
    """'martes 2 de septiembre de 2025' / 'Tuesday, September 2, 2025', without the year when
    with_year is False. Built from the catalog, not the locale's DATE_FORMAT: Django's es_AR
    formats give "2 Set. 2025"."""
    parts = {"weekday": WEEKDAYS[day.weekday()], "month": MONTHS[day.month - 1], "day": day.day}
    if with_year:
        # Translators: "martes 2 de septiembre de 2025".
        return _("%(weekday)s, %(month)s %(day)s, %(year)s") % {**parts, "year": day.year}
    # Translators: "martes 2 de septiembre".
    return _("%(weekday)s, %(month)s %(day)s") % parts


def turn_day(value, now=None):
    """'hoy', 'mañana' or 'martes 10 de marzo', in the active (viewer's) time zone."""
    return _day(value, now)[1]


def turn_day_of(value, now=None):
    """The day after "turno": 'del martes 10 de marzo', but 'de hoy', 'de mañana'."""
    kind, text = _day(value, now)
    if kind == "today":
        return _("of today")
    if kind == "tomorrow":
        return _("of tomorrow")
    if kind == "yesterday":
        return _("of yesterday")
    # Translators: "del martes 10 de marzo" (Spanish contracts "de el").
    return _("of %(day)s") % {"day": text}


def turn_until(value, now=None):
    """'You can cancel online until …': 'hoy a las 14:00', 'el martes 10 de marzo a las 14:00'."""
    kind, text = _day(value, now)
    if kind == "date":
        # Translators: a date after "until", e.g. "(hasta) el martes 10 de marzo".
        text = pgettext("after until", "%(day)s") % {"day": text}
    # Translators: "hoy a las 14:00", "el martes 10 de marzo a las 14:00".
    return _("%(day)s at %(time)s") % {"day": text, "time": turn_time(value)}


def turn_time(value):
    # "H:i" has no localized parts; strftime gives the same text for a fraction of the cost.
    return timezone.localtime(value).strftime("%H:%M")


def turn_when(reservation, now, zone=None):
    """'martes 10 de marzo, 14:00 – 14:50 (50 min)', in `zone` or else the active (viewer's)."""
    if zone is not None:
        with timezone.override(zone):
            return turn_when(reservation, now)
    # Translators: a session's day, start and end times and its length in minutes.
    return _("%(day)s, %(start)s – %(end)s (%(minutes)s min)") % {
        "day": turn_day(reservation.start_time, now),
        "start": turn_time(reservation.start_time),
        "end": turn_time(reservation.end_time),
        "minutes": reservation.duration_minutes,
    }


def _moment(value, now):
    """'martes 15 de diciembre, 18:00', in the active zone; the year when not this year's."""
    local = timezone.localtime(value)
    today = timezone.localtime(now).date()
    day = long_date(local.date(), with_year=local.year != today.year)
    # Translators: a day and a time, e.g. "martes 15 de diciembre, 18:00".
    return _("%(day)s, %(time)s") % {"day": day, "time": turn_time(value)}


def move_asked(request, now):
    """What a request to move a session asks, to its professional: 'Quiere pasar el martes 15 de
    diciembre, 18:00 al miércoles 16 de diciembre, 10:00'."""
    old = request.rescheduled_from
    # Translators: a patient asks to move their session: "Quiere pasar el … al …".
    return _("Wants to move %(old)s to %(new)s") % {
        "old": _moment(old.start_time, now),
        "new": _moment(request.start_time, now),
    }


def move_waiting(request, now):
    """The same, to its patient: 'Pediste pasar este turno al miércoles 16 de diciembre, 10:00:
    sigue en pie hasta que tu profesional lo acepte'."""
    return _(
        "You asked to move it to %(new)s. It stands until your professional accepts the new time."
    ) % {"new": _moment(request.start_time, now)}


def move_replaces(request, now):
    """On the request itself, to its patient."""
    old = request.rescheduled_from
    return _(
        "A request to move your session of %(old)s here. That session stands until your "
        "professional accepts this time."
    ) % {"old": _moment(old.start_time, now)}
