"""The days the practice is closed: the country's national holidays (settings.PRACTICE_HOLIDAYS,
computed by the `holidays` package, kept current upstream; never a list of ours) and the
practice's own closures (Closure, typed in the admin). No slot is offered on them
(scheduling/slots.py) and a new series skips them (series/planning.py). One professional's
absence is a TimeOff: `absences` lists them for a calendar to shade.

Days are calendar days in the professional's zone: the caller turns instants into days.
"""

from datetime import datetime, time, timedelta
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from .models import Closure, TimeOff


def _holiday_language(calendar_class):
    """The `holidays` language closest to the active one (the reader's), or None for the
    country's own (Spanish for Argentina)."""
    supported = calendar_class.supported_languages
    locale = translation.to_locale(translation.get_language() or settings.LANGUAGE_CODE)
    base = locale.split("_")[0]
    for candidate in (locale, base):
        if candidate in supported:
            return candidate
    return next((lang for lang in supported if lang.split("_")[0] == base), None)


@lru_cache(maxsize=64)
def _year_of(country, year, language):
    # Computing a year takes about a millisecond; every booking page asks for one or two.
    return dict(holidays.country_holidays(country, years=year, language=language))


def national_holidays(first, last, country):
    """{date: name} of `country`'s national holidays from `first` to `last` (both included),
    named in the active language when the package has it."""
    if last < first:
        return {}
    language = _holiday_language(holidays.country_holidays(country, years=[]).__class__)
    found = {}
    for year in range(first.year, last.year + 1):
        for day, name in _year_of(country, year, language).items():
            if first <= day <= last:
                found[day] = name
    return found


def holidays_between(first, last):
    """{date: "Holiday: name"} of the practice's holidays (none when PRACTICE_HOLIDAYS is
    empty)."""
    country = settings.PRACTICE_HOLIDAYS
    if not country:
        return {}
    return {
        day: gettext("Holiday: %(name)s") % {"name": name}
        for day, name in national_holidays(first, last, country).items()
    }


def closures_between(first, last):
    """{date: closure's name} of the practice's closures from `first` to `last`: one query."""
    found = {}
    rows = Closure.objects.filter(first_day__lte=last, last_day__gte=first).order_by("first_day")
    for closure in rows.only("name", "first_day", "last_day"):
        day = max(closure.first_day, first)
        while day <= min(closure.last_day, last):
            found.setdefault(day, closure.name)
            day += timedelta(days=1)
    return found


def closed_days(professional, first, last):
    """{date: what a person reads} of the days from `first` to `last` (both included) on which
    `professional` offers nothing because the practice is closed: one query (the closures). The
    days are the professional's own; the closures and holidays are the practice's, the same for
    everyone today. A closure's name wins over a holiday's on a day that is both."""
    if last < first:
        return {}
    return {**holidays_between(first, last), **closures_between(first, last)}


def is_closed(day):
    """Whether the practice is closed on `day` (a date): one query."""
    return bool(closed_days(None, day, day))


def absences(professional, start, end):
    """The professional's absences (TimeOff) overlapping [start, end), instants: one query."""
    return list(
        TimeOff.objects.filter(professional=professional, start__lt=end, end__gt=start).order_by(
            "start", "id"
        )
    )


def absent_days(professional, first, last, zone):
    """{date: reason} of the days from `first` to `last` that one of the professional's absences
    touches, in `zone` (the reader's days): one query. A day only partly away is included."""
    lo = datetime.combine(first, time(), tzinfo=zone)
    hi = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    found = {}
    for absence in absences(professional, lo, hi):
        day = max(absence.start.astimezone(zone).date(), first)
        # An absence ending at midnight does not touch the day it ends on.
        until = (absence.end - timedelta(microseconds=1)).astimezone(zone).date()
        while day <= min(until, last):
            found.setdefault(day, absence.reason)
            day += timedelta(days=1)
    return found
