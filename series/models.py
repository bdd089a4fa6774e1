"""A weekly series: the same slot, every week or every N weeks, for months.

The series is a rule (weekday, local time, length, from, until); its sessions are ordinary
reservations, created on a rolling horizon (SERIES_HORIZON_WEEKS ahead) and extended by the
background worker (series/tasks.py), each linked to the series by an Occurrence with its index.
Index i falls on anchor_date + i-anchor_index times the interval: a time change "from this one on"
moves the anchor, so later indexes follow the new rule.

Every session is checked before it is written (series/planning.py) and by the database's
no-overlap guard when it is; a date that clashes is skipped only when a person agreed to, and each
skip is recorded (SkippedOccurrence).
"""

import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reservations.actions import ActionKind, Actor, recording
from reservations.models import (
    ACTIVE_STATUSES,
    OVERLAP_MESSAGE,
    Event,
    Modality,
    Reservation,
    Status,
    clean_reason,
    reason_refusal,
)
from scheduling.models import Weekday

from .planning import SeriesClash, consented, is_overlap, plan_indexes, plan_occurrences

# What a time change "from this one on" rewrites.
RULE_FIELDS = ["weekday", "local_time", "minutes", "anchor_index", "anchor_date"]


class Series(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="series",
        verbose_name=_("patient"),
    )
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="series_as_professional",
        verbose_name=_("professional"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    local_time = models.TimeField(
        _("time"), help_text=_("In the professional's time zone, on both sides of a summer change.")
    )
    minutes = models.PositiveSmallIntegerField(
        _("session length (minutes)"),
        default=50,
        validators=[MinValueValidator(5), MaxValueValidator(480)],
    )
    session_modality = models.CharField(
        _("modality"), max_length=16, choices=Modality.choices, default=Modality.VIRTUAL
    )
    interval_weeks = models.PositiveSmallIntegerField(
        _("every (weeks)"), default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(
        _("ends on"), null=True, blank=True, help_text=_("The last date a session may fall on.")
    )
    count = models.PositiveIntegerField(
        _("number of sessions"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Dates, counted from the first: a skipped or cancelled date is not replaced. "
            "Neither this nor an end date: the series goes on until it is ended."
        ),
    )
    # The professional's zone when the series was made: its sessions stay at the same wall-clock
    # time in it, whatever the offset.
    time_zone = models.CharField(_("time zone"), max_length=64, editable=False)
    # Index `anchor_index` falls on `anchor_date`; each later index `interval_weeks` later.
    anchor_index = models.PositiveIntegerField(default=0, editable=False)
    anchor_date = models.DateField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # Ended ("cancel this and later"): the worker creates no more sessions.
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, editable=False)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ended by"),
    )
    end_reason = models.TextField(_("reason for ending"), blank=True)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(count__isnull=True),
                name="series_ends_on_or_count",
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="series_weekday"),
            models.CheckConstraint(condition=models.Q(interval_weeks__gte=1), name="series_every"),
        ]
        indexes = [models.Index(fields=["ended_at"], name="series_ended_at")]

    def __str__(self):
        return f"{self.client} · {self.label()}"

    # The rule

    @classmethod
    def build(cls, **fields):
        """An unsaved series from its fields (those of the form), ready to plan."""
        series = cls(**fields)
        series.prepare()
        return series

    def prepare(self):
        """Fill in what follows from the fields: the professional's zone and the first date."""
        if not self.time_zone and self.professional_id:
            self.time_zone = self.professional.time_zone
        if self.anchor_date is None and self.starts_on is not None and self.weekday is not None:
            self.anchor_index = 0
            self.anchor_date = self.starts_on + timedelta(
                days=(self.weekday - self.starts_on.weekday()) % 7
            )

    def clean(self):
        errors = {}
        if self.ends_on and self.count:
            errors["count"] = _("Give an end date or a number of sessions, not both.")
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The end date must not be before the start date.")
        if self.professional_id:
            if not hasattr(self.professional, "professional_profile"):
                errors["professional"] = _("This user is not a professional.")
            elif self.client_id == self.professional_id:
                errors["client"] = _("The patient and the professional must be different people.")
        if errors:
            raise ValidationError(errors)

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def active(self):
        return self.ended_at is None

    def date_for(self, index):
        return self.anchor_date + timedelta(weeks=self.interval_weeks * (index - self.anchor_index))

    def start_for(self, index):
        """The session's start: the series' local time on its date, in the series' zone (the same
        wall-clock time on both sides of a summer change)."""
        return datetime.combine(self.date_for(index), self.local_time, tzinfo=self.tz)

    def end_for(self, index):
        return self.start_for(index) + timedelta(minutes=self.minutes)

    def includes(self, index):
        """Whether the series has a date at this index (by its number of sessions or end date)."""
        if index < 0 or (self.count is not None and index >= self.count):
            return False
        return self.ends_on is None or self.date_for(index) <= self.ends_on

    def due_count(self, start_index, now):
        """How many indexes from `start_index` fall before the horizon (SERIES_HORIZON_WEEKS from
        now) and inside the series."""
        horizon = now + timedelta(weeks=settings.SERIES_HORIZON_WEEKS)
        count = 0
        while self.includes(start_index + count) and self.start_for(start_index + count) < horizon:
            count += 1
        return count

    def next_index(self):
        """The first index with neither a session nor a recorded skip."""
        taken = [
            self.occurrences.aggregate(m=Max("index"))["m"],
            self.skipped.filter(action=SkippedOccurrence.Action.CREATE).aggregate(m=Max("index"))[
                "m"
            ],
        ]
        taken = [i for i in taken if i is not None]
        return max(taken) + 1 if taken else 0

    def label(self, tz=None):
        """'Semanal · martes 18:00', 'Cada 2 semanas · martes 18:00' in the active language, at
        the time it is in `tz` (default: the active zone, the reader's)."""
        from reservations.texts import WEEKDAYS

        tz = tz or timezone.get_current_timezone()
        today = timezone.now().astimezone(self.tz).date()
        step = 7 * self.interval_weeks
        ahead = max(0, -(-(today - self.anchor_date).days // step))
        start = self.start_for(self.anchor_index + ahead).astimezone(tz)
        parts = {"weekday": WEEKDAYS[start.weekday()], "time": f"{start:%H:%M}"}
        if self.interval_weeks == 1:
            return gettext("Weekly · %(weekday)s %(time)s") % parts
        return gettext("Every %(n)d weeks · %(weekday)s %(time)s") % {
            **parts,
            "n": self.interval_weeks,
        }

    # Sessions

    def book_planned(self, planned, *, action, consented_by):
        """Write one planned session as part of `action`, or record its skip when it clashes.
        Returns the reservation, or None when skipped. Raises ValidationError when the database
        finds an overlap the plan did not (someone booked the time meanwhile)."""
        if planned.clashes:
            self.record_skip(planned, consented_by=consented_by)
            return None
        reservation = Reservation.book(
            by=action.by,
            within=action,
            client=self.client,
            professional=self.professional,
            start_time=planned.start,
            end_time=planned.end,
            session_modality=self.session_modality,
            status=Status.CONFIRMED,
        )
        Occurrence.objects.create(series=self, reservation=reservation, index=planned.index)
        return reservation

    def record_skip(self, planned, *, consented_by, kind=None, reason=None):
        """Record that this planned date was left out (not created, or not moved: `kind`)."""
        return SkippedOccurrence.objects.create(
            series=self,
            index=planned.index,
            start=planned.start,
            end=planned.end,
            action=kind or SkippedOccurrence.Action.CREATE,
            reason=reason or "\n".join(str(c) for c in planned.clashes),
            consented_by=consented_by,
        )

    def extend(self, now=None):
        """Create the sessions missing up to the horizon. Safe to run twice or at once from two
        workers: it works under a lock on the series, from the first index with nothing recorded.

        Nobody is there to agree to skip a clash (a booking or a time off written since the series
        was made): the date is skipped all the same, never double booked, and recorded with no one
        as having agreed, for staff to review. A day the practice is closed needs no review: whoever
        made the series saw that closed days are skipped, and is recorded as having agreed. Returns
        how many sessions it created.
        """
        now = now or timezone.now()
        with recording(ActionKind.SERIES_EXTEND, by=Actor.system(), at=now) as action:
            series = Series.objects.select_for_update().get(pk=self.pk)
            if not series.active:
                return 0
            start = series.next_index()
            plan = plan_occurrences(series, start, series.due_count(start, now), now)
            if plan:
                Reservation.expire_overdue(
                    now, Q(professional_id=series.professional_id) | Q(client_id=series.client_id)
                )
            created = 0
            for planned in plan:
                try:
                    with transaction.atomic():
                        agreed = series.created_by if not planned.asks else None
                        created += bool(
                            series.book_planned(planned, action=action, consented_by=agreed)
                        )
                except ValidationError as exc:
                    if not is_overlap(exc):
                        raise
                    series.record_skip(planned, consented_by=None, reason=str(OVERLAP_MESSAGE))
        return created

    def upcoming_from(self, index, now):
        """The occurrences from `index` on whose session is not cancelled and has not started."""
        return (
            self.occurrences.filter(
                index__gte=index,
                reservation__status__in=ACTIVE_STATUSES,
                reservation__start_time__gt=now,
            )
            .select_related(
                "reservation__client", "reservation__professional__professional_profile"
            )
            .order_by("index")
        )

    def index_of(self, start):
        """An index, or a reservation of this series: its index."""
        if isinstance(start, int):
            return start
        occurrence = Occurrence.objects.filter(reservation=start, series=self).first()
        if occurrence is None:
            raise ValueError("This reservation is not a session of this series.")
        return occurrence.index

    def cancel_from(self, start, *, by, reason="", now=None, for_patient=False):
        """Cancel this session and all later ones, and end the series (the worker creates no
        more), as one action. `start`: an index or a reservation of the series. `by` (an Actor:
        staff, or the professional) says why, as any cancel by the practice does; each session is
        cancelled through Reservation.cancel, with its event and lateness. Sessions already
        started are left as they are. Returns a CancelResult."""
        now = now or timezone.now()
        index = self.index_of(start)
        reason = clean_reason(reason)
        refusal = reason_refusal(by, reason)
        if refusal:
            return CancelResult(refusal=refusal)
        result = CancelResult()
        with recording(ActionKind.SERIES_CANCEL, by=by, at=now, reason=reason) as action:
            series = Series.objects.select_for_update().get(pk=self.pk)
            for occurrence in series.upcoming_from(index, now):
                r = occurrence.reservation
                refusal = r.cancel(
                    by=by, reason=reason, now=now, for_patient=for_patient, within=action
                )
                (result.refused if refusal else result.cancelled).append((r, refusal))
            if series.active:
                series.ended_at, series.ended_by, series.end_reason = now, by.user, reason
                series.save(update_fields=["ended_at", "ended_by", "end_reason"])
            action.log(
                SeriesEvent(series=series, action=SeriesEvent.Action.ENDED, from_index=index)
            )
        self.ended_at, self.ended_by, self.end_reason = series.ended_at, series.ended_by, reason
        return result

    def moved(self, index, weekday, local_time, minutes=None):
        """An unsaved copy of this series with index `index` and later on `weekday` at
        `local_time`: the same week as the session it replaces (Monday to Sunday)."""
        copy = Series(**{f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields})
        copy._state.adding = False
        old_date = self.date_for(index)
        copy.weekday, copy.local_time = weekday, local_time
        copy.minutes = minutes or self.minutes
        copy.anchor_index = index
        copy.anchor_date = old_date + timedelta(days=weekday - old_date.weekday())
        return copy

    def plan_move(self, start, weekday, local_time, now, minutes=None):
        """What "change the time of this and all later ones" would do: each session not cancelled
        and not started, from `start` on, at its new time, with its clashes (the series' own
        sessions being moved are not in the way).
        Returns (moved series, [(occurrence, Planned)])."""
        index = self.index_of(start)
        occurrences = list(self.upcoming_from(index, now))
        moved = self.moved(index, weekday, local_time, minutes)
        plan = plan_indexes(
            moved,
            [o.index for o in occurrences],
            now,
            exclude=[o.reservation_id for o in occurrences],
        )
        return moved, list(zip(occurrences, plan, strict=True))

    def move_from(
        self, start, weekday, local_time, *, by, now=None, skip_clashes=False, minutes=None
    ):
        """Change the time of this session and all later ones (and of those the worker will
        create). Each moved session is checked; if any clashes and the clashes were not agreed to
        be skipped (True, or the indexes a person saw), SeriesClash is raised and nothing changes.
        A skipped session stays at its old time, recorded. All or nothing: one transaction.
        Returns the list of moved reservations."""
        now = now or timezone.now()
        index = self.index_of(start)
        try:
            with recording(ActionKind.SERIES_MOVE, by=by, at=now) as action:
                series = Series.objects.select_for_update().get(pk=self.pk)
                if not series.active:
                    raise ValidationError(_("This series has ended."), code="ended")
                moved, pairs = series.plan_move(index, weekday, local_time, now, minutes)
                plan = [p for _, p in pairs]
                if not consented(skip_clashes, plan):
                    raise SeriesClash(plan)
                done = []
                for occurrence, planned in pairs:
                    if planned.clashes:
                        series.record_skip(
                            planned, consented_by=by.user, kind=SkippedOccurrence.Action.MOVE
                        )
                        continue
                    r = occurrence.reservation
                    r.start_time, r.end_time = planned.start, planned.end
                    r.change(["start_time", "end_time"], by=by, now=now, within=action)
                    done.append(r)
                changes = {
                    "weekday": [series.weekday, moved.weekday],
                    "local_time": [f"{series.local_time:%H:%M}", f"{moved.local_time:%H:%M}"],
                    "minutes": [series.minutes, moved.minutes],
                }
                for name in RULE_FIELDS:
                    setattr(series, name, getattr(moved, name))
                series.save(update_fields=RULE_FIELDS)
                action.log(
                    SeriesEvent(
                        series=series,
                        action=SeriesEvent.Action.MOVED,
                        from_index=index,
                        changes=changes,
                    )
                )
        except SeriesClash:
            raise
        except ValidationError as exc:
            if not is_overlap(exc):
                raise
            # The database found what the plan did not (a booking written meanwhile).
            raise SeriesClash(
                [p for _, p in self.plan_move(index, weekday, local_time, now, minutes)[1]]
            ) from exc
        for name in RULE_FIELDS:
            setattr(self, name, getattr(series, name))
        return done


@dataclass
class CancelResult:
    """What "cancel this and later" did: [(reservation, None)] cancelled, [(reservation,
    Refusal)] left as they were (cancelled by someone else meanwhile); or, with `refusal`,
    nothing at all (no reason given)."""

    cancelled: list = field(default_factory=list)
    refused: list = field(default_factory=list)
    refusal: object = None


class Occurrence(models.Model):
    """A session of a series: its reservation and its place (index) in the series."""

    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, related_name="occurrences", verbose_name=_("series")
    )
    reservation = models.OneToOneField(
        Reservation,
        on_delete=models.PROTECT,
        related_name="occurrence",
        verbose_name=_("reservation"),
    )
    index = models.PositiveIntegerField(_("number in the series"))

    class Meta:
        verbose_name = _("session of a series")
        verbose_name_plural = _("sessions of a series")
        ordering = ["series", "index"]
        constraints = [
            # The worker may run twice or late: a date is created once, and a cancelled one is
            # never created again.
            models.UniqueConstraint(fields=["series", "index"], name="occurrence_series_index"),
        ]

    def __str__(self):
        return f"{self.series} · #{self.index + 1}"


class SkippedOccurrence(models.Model):
    """A date of a series left out because it clashed: not created, or not moved (it stays at its
    old time). Who agreed to skip it; nobody when the worker met the clash while extending."""

    class Action(models.TextChoices):
        CREATE = "create", _("Not created")
        MOVE = "move", _("Not moved")

    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, related_name="skipped", verbose_name=_("series")
    )
    index = models.PositiveIntegerField(_("number in the series"))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    reason = models.TextField(_("clashes with"), blank=True)
    consented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("skipped with the consent of"),
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("skipped date")
        verbose_name_plural = _("skipped dates")
        ordering = ["series", "index", "at"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "index"],
                condition=models.Q(action="create"),
                name="skipped_series_index_created_once",
            ),
        ]

    def __str__(self):
        return f"{self.series} · #{self.index + 1} · {self.get_action_display()}"


class SeriesEvent(Event):
    """Append-only record of what happened to a series: created, moved from a session on, ended.
    Each session's own story is in its reservation's events, under the same action id."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        MOVED = "moved", _("Time changed from this session on")
        ENDED = "ended", _("Cancelled from this session on")

    series = models.ForeignKey(
        Series, on_delete=models.PROTECT, related_name="events", verbose_name=_("series")
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_index = models.PositiveIntegerField(_("from session number"), null=True, blank=True)

    class Meta:
        verbose_name = _("series event")
        verbose_name_plural = _("series events")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()} · {timezone.localtime(self.at):%Y-%m-%d %H:%M}"
