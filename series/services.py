"""Creating a series, and keeping every series' sessions up to the horizon: what the admin, the
professional's agenda and the worker call. Changes to an existing series are its methods
(Series.cancel_from, Series.plan_move, Series.move_from)."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reservations.actions import ActionKind, recording
from reservations.models import Reservation

from .models import Series, SeriesEvent
from .planning import SeriesClash, consented, is_overlap, plan_occurrences


def preview_series(*, now=None, **fields):
    """(unsaved series, plan) for these fields: each date up to the horizon with its clashes.
    Raises ValidationError when the fields are not a valid series."""
    now = now or timezone.now()
    check_reach(fields.get("starts_on"), fields.get("ends_on"), now)
    series = Series.build(**fields)
    series.full_clean(exclude=["created_by"])
    return series, plan_occurrences(series, 0, series.due_count(0, now), now)


# A new series starts within a year of today, and ends (by date) within ten years of its start:
# a first date in the year 1 would plan two thousand years of sessions up to the horizon.
REACH_BACK = REACH_AHEAD = timedelta(days=366)
LONGEST = timedelta(days=10 * 366)


def check_reach(starts_on, ends_on, now):
    if starts_on is None:
        return
    today = timezone.localdate(now)
    errors = {}
    if not today - REACH_BACK <= starts_on <= today + REACH_AHEAD:
        errors["starts_on"] = _("Choose a first date within a year of today.")
    elif ends_on and ends_on - starts_on > LONGEST:
        errors["ends_on"] = _("Choose a last date within ten years of the first.")
    if errors:
        raise ValidationError(errors)


def create_series(*, by, skip_clashes=False, now=None, **fields):
    """Save a series and its sessions up to the horizon (SERIES_HORIZON_WEEKS), CONFIRMED, as
    one action of `by` (an Actor: staff, or the professional).

    Every date is checked first. When any clashes, nothing is saved (SeriesClash, with the plan)
    unless `skip_clashes` agrees: True skips whatever clashes now; a set of indexes skips those
    the person saw, and any other clash refuses. Each skip is recorded with who agreed. A clash
    the plan could not see (a booking committed meanwhile) is found by the database's guard and
    refuses the whole series: never a silent double booking. Returns the saved series.
    """
    now = now or timezone.now()
    series, _ = preview_series(now=now, **fields)
    series.created_by = by.user
    try:
        with recording(ActionKind.SERIES_CREATE, by=by, at=now) as action:
            # Lapsed requests give their time to whoever books it (as a patient's booking does).
            Reservation.expire_overdue(
                now, Q(professional_id=series.professional_id) | Q(client_id=series.client_id)
            )
            plan = plan_occurrences(series, 0, series.due_count(0, now), now)
            if not consented(skip_clashes, plan):
                raise SeriesClash(plan)
            series.created_at = now
            series.save(force_insert=True)
            action.log(
                SeriesEvent(
                    series=series,
                    action=SeriesEvent.Action.CREATED,
                    changes={"skipped": [p.index for p in plan if p.clashes]},
                )
            )
            for planned in plan:
                series.book_planned(planned, action=action, consented_by=by.user)
    except ValidationError as exc:
        if isinstance(exc, SeriesClash) or not is_overlap(exc):
            raise
        # The database found what the plan did not (a booking committed meanwhile).
        raise SeriesClash(plan_occurrences(series, 0, series.due_count(0, now), now)) from exc
    schedule_extension()
    return series


def extend_all_series(now=None):
    """Create the missing sessions up to the horizon of every series not ended. Idempotent.
    Returns how many sessions were created."""
    now = now or timezone.now()
    created = 0
    for pk in Series.objects.filter(ended_at__isnull=True).values_list("pk", flat=True):
        created += Series(pk=pk).extend(now)
    return created


def schedule_extension():
    """Make sure the worker's daily extension is scheduled (series/tasks.py), once the current
    transaction commits."""
    from .tasks import ensure_scheduled

    transaction.on_commit(ensure_scheduled, robust=True)
