"""Free slots: a professional's working hours, minus time off, minus the sessions that hold time.

A slot is offered when all of these hold:
- it is on the grid of one of the professional's working-hours ranges (starts at the range's
  start, then every session + break, and ends inside the range), in their own time zone, so 9:00
  stays 9:00 on both sides of a daylight-saving change (a wall-clock time the change skips is not
  offered);
- it starts at least that range's lead time from now and before its horizon;
- it overlaps no time off;
- its day (in the professional's zone) is not one the practice is closed: a national holiday or a
  closure (scheduling/closures.py);
- it leaves the range's break clear on either side of every session of the professional that
  holds time: CONFIRMED, or PENDING and not lapsed (a lapsed request frees its time even before
  the worker comes by);
- it overlaps no session of the patient (with anyone).

Three queries for any range of days: the working hours, one UNION of the sessions and the time
off in that range, and the practice's closures (the holidays are computed).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Case, IntegerField, Q, Value, When

from reservations.models import Modality, Reservation, Status

from .closures import closed_days
from .models import MAX_HORIZON_WEEKS, HoursModality, TimeOff, WorkingHours

# The two kinds of busy time: the professional's sessions need a break around them; the
# patient's sessions with others and time off only must not overlap.
_NEEDS_BREAK, _NO_OVERLAP = 1, 0


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, UTC
    end: datetime
    modalities: tuple  # of reservations.models.Modality values, in that order

    def offers(self, modality):
        return modality in self.modalities


def _modalities(value):
    if value == HoursModality.BOTH:
        return (Modality.VIRTUAL.value, Modality.IN_PERSON.value)
    return (value,)


def _zone(user):
    return ZoneInfo(user.time_zone)


def _local_instant(day, at, zone):
    """`day` at wall-clock `at` in `zone`, as UTC; None when that wall-clock time does not exist
    there that day (the hour skipped when the clocks go forward)."""
    local = datetime.combine(day, at, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def _grid(hours, day, zone):
    """The (start, end) of each session `hours` offers on `day`, as UTC instants."""
    step = hours.session_minutes + hours.buffer_minutes
    opens = hours.start_time.hour * 60 + hours.start_time.minute
    closes = hours.end_time.hour * 60 + hours.end_time.minute
    session = timedelta(minutes=hours.session_minutes)
    minute = opens
    while minute + hours.session_minutes <= closes:
        start = _local_instant(day, time(minute // 60, minute % 60), zone)
        if start is not None:
            yield start, start + session
        minute += step


def _busy(professional, patient, lo, hi, now, exclude):
    """(start, end, kind) of everything that may block a slot between lo and hi: one query."""
    holds_time = Q(status=Status.CONFIRMED) | Q(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now), status=Status.PENDING
    )
    whose = Q(professional=professional)
    if patient is not None:
        whose |= Q(client=patient)
    sessions = (
        Reservation.objects.filter(whose, holds_time, start_time__lt=hi, end_time__gt=lo)
        .annotate(
            kind=Case(
                When(professional=professional, then=Value(_NEEDS_BREAK)),
                default=Value(_NO_OVERLAP),
                output_field=IntegerField(),
            )
        )
        .values_list("start_time", "end_time", "kind")
        .order_by()
    )
    if exclude is not None:
        sessions = sessions.exclude(pk=exclude)
    time_off = (
        TimeOff.objects.filter(professional=professional, start__lt=hi, end__gt=lo)
        .annotate(kind=Value(_NO_OVERLAP, output_field=IntegerField()))
        .values_list("start", "end", "kind")
        .order_by()
    )
    return list(sessions.union(time_off, all=True))


def free_slots(
    professional, start_date, end_date, *, now, patient=None, zone=None, exclude=None, lead=True
):
    """The slots offered from `start_date` to `end_date` (both included, days in `zone`, by
    default the professional's), earliest first.

    `patient`: their own sessions block too. `exclude`: the id of a session to leave out (the one
    being moved, whose time its patient may take again). `lead` False: the practice books, and
    the patients' lead time does not apply (nothing before `now` is offered all the same).
    """
    hours = list(WorkingHours.objects.filter(professional=professional))
    if not hours or end_date < start_date:
        return []
    own_zone = _zone(professional)
    zone = zone or own_zone
    # Nothing is offered before the shortest lead time nor after the longest horizon: the days
    # asked for are cut to those first (a client may ask for the year 9999).
    earliest = now + timedelta(hours=min(h.min_lead_hours for h in hours) if lead else 0)
    latest = now + timedelta(weeks=max(h.horizon_weeks for h in hours))
    start_date = max(start_date, earliest.astimezone(zone).date())
    end_date = min(end_date, latest.astimezone(zone).date())
    if end_date < start_date:
        return []
    lo = max(datetime.combine(start_date, time(), tzinfo=zone), earliest)
    hi = min(datetime.combine(end_date + timedelta(days=1), time(), tzinfo=zone), latest)

    widest_break = timedelta(minutes=max(h.buffer_minutes for h in hours))
    busy = _by_day(
        _busy(professional, patient, lo - widest_break, hi + widest_break, now, exclude),
        widest_break,
    )

    by_weekday = {}
    for h in hours:
        by_weekday.setdefault(h.weekday, []).append(h)
    found = {}
    # The professional's days that can hold a slot starting inside [lo, hi): a day either side,
    # since their calendar and the one the days were asked in may differ.
    day = lo.astimezone(own_zone).date() - timedelta(days=1)
    last_day = hi.astimezone(own_zone).date() + timedelta(days=1)
    closed = closed_days(professional, day, last_day)
    while day <= last_day:
        for h in () if day in closed else by_weekday.get(day.weekday(), ()):
            first = now + timedelta(hours=h.min_lead_hours if lead else 0)
            horizon = now + timedelta(weeks=h.horizon_weeks)
            gap = timedelta(minutes=h.buffer_minutes)
            for start, end in _grid(h, day, own_zone):
                if not (lo <= start < hi and start >= first and start < horizon):
                    continue
                if _blocked(start, end, gap, busy):
                    continue
                modalities = _modalities(h.modality)
                if start in found:  # two ranges offering the same start: both modalities
                    old = found[start]
                    modalities = tuple(
                        m for m in Modality.values if m in old.modalities + modalities
                    )
                    end = max(end, old.end)
                found[start] = Slot(start, end, modalities)
        day += timedelta(days=1)
    return [found[start] for start in sorted(found)]


def _by_day(busy, widest_break):
    """The busy times by the UTC days they touch (break included), so that each slot is checked
    against its own day's, not against a full calendar's."""
    days = {}
    for item in busy:
        busy_start, busy_end, _kind = item
        day = (busy_start - widest_break).date()
        while day <= (busy_end + widest_break).date():
            days.setdefault(day, []).append(item)
            day += timedelta(days=1)
    return days


def _blocked(start, end, gap, busy):
    near = busy.get(start.date(), [])
    if end.date() != start.date():
        near = near + busy.get(end.date(), [])
    for busy_start, busy_end, kind in near:
        margin = gap if kind == _NEEDS_BREAK else timedelta(0)
        if start < busy_end + margin and busy_start < end + margin:
            return True
    return False


def slot_at(professional, start_time, *, now, patient=None, exclude=None, lead=True):
    """The slot that starts exactly at `start_time`, or None when none is offered then."""
    zone = _zone(professional)
    # No slot lies before now or past the longest horizon: a time far from them (a client may
    # send the year 1 or 9999, where converting to a zone overflows) is no slot, unlooked at.
    if not now - timedelta(days=1) <= start_time <= now + timedelta(weeks=MAX_HORIZON_WEEKS + 1):
        return None
    day = start_time.astimezone(zone).date()
    for slot in free_slots(
        professional, day, day, now=now, patient=patient, zone=zone, exclude=exclude, lead=lead
    ):
        if slot.start == start_time:
            return slot
    return None


def offered_slot(professional, start_time, modality, *, now, patient=None, exclude=None):
    """The slot at `start_time` if it is offered with `modality`, else None: what a booking is
    checked against, whatever the form or the client sent."""
    slot = slot_at(professional, start_time, now=now, patient=patient, exclude=exclude)
    return slot if slot is not None and slot.offers(modality) else None


def week_start(day):
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def parse_day(text, default):
    """A YYYY-MM-DD from a query string, or `default` when it is missing or malformed."""
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default
