"""Where a series' sessions would fall, and what each would clash with, before anything is saved.

A clash is anything the no-overlap guard or the professional's calendar would refuse: another
session of the patient, another session of the professional, the professional's time off, or a
time already gone. Staff see the list and decide; nothing here writes. A date the practice is
closed (a national holiday, a closure) is not a clash to decide: it is skipped, with its name.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reservations.models import ACTIVE_STATUSES, Reservation, Status
from scheduling.closures import closed_days
from scheduling.models import TimeOff


class ClashKind:
    PATIENT = "patient"  # the patient's other session (with anyone)
    PROFESSIONAL = "professional"  # the professional's session with another patient
    TIME_OFF = "time_off"
    PAST = "past"
    # The practice is closed that day: skipped without asking (`obj` is what a person reads,
    # "Holiday: …" or the closure's name).
    CLOSED = "closed"


@dataclass(frozen=True)
class Clash:
    kind: str
    start: datetime
    end: datetime
    # The reservation or the time off in the way; None for PAST; the day's name for CLOSED.
    obj: object = None

    @property
    def message(self):
        """What staff read in the preview (times in the active zone: the reader's)."""
        when = self.when
        if self.kind == ClashKind.PATIENT:
            return gettext("The patient's other session with %(professional)s, %(when)s") % {
                "professional": self.obj.professional.display_name,
                "when": when,
            }
        if self.kind == ClashKind.PROFESSIONAL:
            return gettext("The professional's session with %(patient)s, %(when)s") % {
                "patient": self.obj.client.name,
                "when": when,
            }
        if self.kind == ClashKind.CLOSED:
            return str(self.obj)
        if self.kind == ClashKind.TIME_OFF:
            reason = self.obj.reason or gettext("no reason given")
            return gettext("Time off (%(reason)s), %(when)s") % {"reason": reason, "when": when}
        return gettext("This time has already passed")

    @property
    def when(self):
        """Its span, in the active zone (the reader's)."""
        return _span(self.start, self.end)

    def __str__(self):
        return self.message


def _span(start, end):
    start, end = timezone.localtime(start), timezone.localtime(end)
    if start.date() == end.date():
        return f"{start:%d/%m/%Y %H:%M}–{end:%H:%M}"
    return f"{start:%d/%m/%Y %H:%M} – {end:%d/%m/%Y %H:%M}"


class Planned(NamedTuple):
    """One session of a series as it would be: its index in the series, when, and what is in the
    way (empty: it can be booked)."""

    index: int
    start: datetime
    end: datetime
    clashes: list

    @property
    def closed(self):
        """Why the practice is closed that day ("Holiday: …", a closure's name), or "": the date
        is skipped without anyone ticking it."""
        return next((str(c.obj) for c in self.clashes if c.kind == ClashKind.CLOSED), "")

    @property
    def asks(self):
        """Whether a person must agree to skip this date: it clashes, on a day the practice is
        open."""
        return bool(self.clashes) and not self.closed


class SeriesClash(ValidationError):
    """Some of the series' dates clash and nobody agreed to skip them: nothing was written.
    `plan` lists every date with its clashes, as they are now."""

    def __init__(self, plan):
        self.plan = plan
        super().__init__(
            _("Some dates clash with other sessions or time off. Nothing was saved."),
            code="clash",
        )

    @property
    def clashing(self):
        return [p for p in self.plan if p.asks]


def is_overlap(exc):
    """Whether a ValidationError is the no-overlap guard's (from clean() or the database's)."""
    if hasattr(exc, "error_dict"):
        errors = [e for errors in exc.error_dict.values() for e in errors]
    else:
        errors = exc.error_list
    return any(e.code == "overlap" for e in errors)


def consented(skip_clashes, plan):
    """Whether the clashing dates of `plan` may be skipped: `skip_clashes` is True (skip whatever
    clashes), or the indexes a person saw clash and agreed to skip (any other clash refuses). A
    date the practice is closed needs nobody's agreement."""
    clashing = {p.index for p in plan if p.asks}
    if not clashing:
        return True
    if skip_clashes is True:
        return True
    return bool(skip_clashes) and clashing <= set(skip_clashes)


def plan_occurrences(series, start_index, count, now, *, exclude=()):
    """[(index, start, end, clashes)] for `count` indexes from `start_index`, stopping where the
    series ends (its last date or its number of sessions). `series` may be unsaved (a preview)."""
    indexes = []
    for index in range(start_index, start_index + count):
        if not series.includes(index):
            break
        indexes.append(index)
    return plan_indexes(series, indexes, now, exclude=exclude)


def plan_indexes(series, indexes, now, *, exclude=()):
    """The plan of these indexes. `exclude`: reservation ids that are not in the way (the
    sessions being moved). Three queries whatever the number of dates (the closures the third)."""
    slots = [(i, series.start_for(i), series.end_for(i)) for i in indexes]
    if not slots:
        return []
    first, last = min(s for _, s, _ in slots), max(e for _, _, e in slots)
    others = list(
        Reservation.objects.filter(
            Q(professional_id=series.professional_id) | Q(client_id=series.client_id),
            status__in=ACTIVE_STATUSES,
            start_time__lt=last,
            end_time__gt=first,
        )
        # A pending request whose hold has lapsed is expired by whoever books its time.
        .exclude(status=Status.PENDING, expires_at__lte=now)
        .exclude(pk__in=list(exclude))
        .select_related("client", "professional__professional_profile")
        .order_by("start_time")
    )
    time_off = list(
        TimeOff.objects.filter(
            professional_id=series.professional_id, start__lt=last, end__gt=first
        ).order_by("start")
    )
    zone = series.tz
    closed = closed_days(
        series.professional_id, first.astimezone(zone).date(), last.astimezone(zone).date()
    )
    plan = []
    for index, start, end in slots:
        clashes = []
        name = closed.get(start.astimezone(zone).date())
        if name:
            clashes.append(Clash(ClashKind.CLOSED, start, end, name))
        if start <= now:
            clashes.append(Clash(ClashKind.PAST, start, end))
        for r in others:
            if r.start_time < end and r.end_time > start:
                kind = (
                    ClashKind.PATIENT if r.client_id == series.client_id else ClashKind.PROFESSIONAL
                )
                clashes.append(Clash(kind, r.start_time, r.end_time, r))
        for t in time_off:
            if t.start < end and t.end > start:
                clashes.append(Clash(ClashKind.TIME_OFF, t.start, t.end, t))
        plan.append(Planned(index, start, end, clashes))
    return plan


def plan_digest(plan):
    """A short fingerprint of a plan's dates and clashing indexes: the admin's confirmation step
    carries the one the person saw, so a plan that changed since is shown again, never saved."""
    text = ";".join(
        f"{p.index},{p.start.timestamp():.0f},{p.end.timestamp():.0f},{int(bool(p.clashes))}"
        for p in plan
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]
