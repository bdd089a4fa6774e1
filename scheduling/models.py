"""When a professional sees patients: weekly working hours, and time off that punches holes in them.

Times are wall-clock times in the professional's own zone (User.time_zone): "Mondays 9 to 13" stays
9 to 13 on both sides of a daylight-saving change. scheduling/slots.py turns them into instants.
"""

from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reservations.actions import ActionKind, recording
from reservations.models import Event


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class HoursModality(models.TextChoices):
    # The first two are reservations.models.Modality's values; "both" lets the patient choose.
    VIRTUAL = "Virtual", _("Virtual")
    IN_PERSON = "Presencial", _("In person")
    BOTH = "both", _("Virtual or in person")


# Sane ranges for working hours: every booking page and the API compute slots from them, so a
# 1-minute session over a 32,767-week horizon would make each page compute millions of slots.
MIN_SESSION_MINUTES, MAX_SESSION_MINUTES = 15, 8 * 60
MAX_BUFFER_MINUTES = 4 * 60
MAX_HORIZON_WEEKS = 52
MAX_LEAD_HOURS = 4 * 7 * 24


class WorkingHours(models.Model):
    """One range of one weekday; a day may have several (a morning and an afternoon)."""

    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="working_hours",
        verbose_name=_("professional"),
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    modality = models.CharField(
        _("modality"), max_length=16, choices=HoursModality.choices, default=HoursModality.BOTH
    )
    session_minutes = models.PositiveSmallIntegerField(
        _("session length (minutes)"),
        default=50,
        validators=[
            MinValueValidator(MIN_SESSION_MINUTES),
            MaxValueValidator(MAX_SESSION_MINUTES),
        ],
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("break after each session (minutes)"),
        default=10,
        validators=[MaxValueValidator(MAX_BUFFER_MINUTES)],
    )
    horizon_weeks = models.PositiveSmallIntegerField(
        _("bookable up to (weeks ahead)"),
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_HORIZON_WEEKS)],
    )
    min_lead_hours = models.PositiveSmallIntegerField(
        _("bookable from (hours ahead)"),
        default=24,
        validators=[MaxValueValidator(MAX_LEAD_HOURS)],
    )

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["professional", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")),
                name="working_hours_end_after_start",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="working_hours_weekday_range"),
            models.CheckConstraint(
                condition=Q(session_minutes__gte=MIN_SESSION_MINUTES)
                & Q(session_minutes__lte=MAX_SESSION_MINUTES),
                name="working_hours_session_range",
            ),
            models.CheckConstraint(
                condition=Q(horizon_weeks__gte=1) & Q(horizon_weeks__lte=MAX_HORIZON_WEEKS),
                name="working_hours_horizon_range",
            ),
            models.CheckConstraint(
                condition=Q(buffer_minutes__lte=MAX_BUFFER_MINUTES)
                & Q(min_lead_hours__lte=MAX_LEAD_HOURS),
                name="working_hours_break_and_lead_range",
            ),
        ]

    def __str__(self):
        hours = f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        return f"{self.professional} · {self.get_weekday_display()} {hours}"

    def clean(self):
        # The field validators bound each number (the admin and the agenda's forms run them);
        # the range itself must hold a session.
        start, end = self.start_time, self.end_time
        if start is not None and end is not None and end <= start:
            raise ValidationError({"end_time": _("The range must end after it starts.")})


def within_reach(value):
    """A time off in the years a calendar of ours can show: far from them, converting the time
    to another zone overflows (the year 9999 at -03:00 is the year 10000 in UTC)."""
    if not 2000 <= value.year <= 2200:
        raise ValidationError(_("Choose a date between the years 2000 and 2200."), code="reach")


class TimeOff(models.Model):
    """An absence (holidays, a congress): no slots are offered inside it."""

    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="time_off",
        verbose_name=_("professional"),
    )
    start = models.DateTimeField(_("from"), validators=[within_reach])
    end = models.DateTimeField(_("until"), validators=[within_reach])
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["professional", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="time_off_end_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.professional} · {self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M}"


class Closure(models.Model):
    """Days the whole practice is closed (summer holidays, a move), both days included: no slot
    is offered on them and a new series skips them, as on a national holiday
    (scheduling/closures.py). One professional's absence is a TimeOff."""

    name = models.CharField(
        _("name"), max_length=200, help_text=_("Patients read it, e.g. “Summer holidays”.")
    )
    first_day = models.DateField(_("first day"), validators=[within_reach])
    last_day = models.DateField(_("last day"), validators=[within_reach])

    class Meta:
        verbose_name = _("practice closure")
        verbose_name_plural = _("practice closures")
        ordering = ["first_day"]
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__gte=F("first_day")), name="closure_last_not_before_first"
            ),
        ]

    def __str__(self):
        return f"{self.name} · {self.first_day:%d/%m/%Y} – {self.last_day:%d/%m/%Y}"

    def clean(self):
        first, last = self.first_day, self.last_day
        if first is not None and last is not None and last < first:
            raise ValidationError({"last_day": _("The last day must not be before the first.")})


class ScheduleChange(Event):
    """Append-only record of each range of hours and each time off added, changed or removed:
    who, when, through which door (an action, as every change is), and the row as it was and as
    it became. A removed range is deleted (the free slots come from what is there), and this says
    it existed."""

    class What(models.TextChoices):
        ADDED = "added", _("Added")
        CHANGED = "changed", _("Changed")
        REMOVED = "removed", _("Removed")

    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="schedule_changes",
        verbose_name=_("professional"),
    )
    # "workinghours" or "timeoff".
    model = models.CharField(_("of"), max_length=32)
    row_id = models.PositiveBigIntegerField(_("row"))
    what = models.CharField(_("what"), max_length=8, choices=What.choices)
    # `changes`: {field: [before, after]}, times as text; before is None for an addition, after
    # for a removal.

    class Meta:
        verbose_name = _("schedule change")
        verbose_name_plural = _("schedule changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["professional", "at"], name="schedule_change_pro_at")]

    def __str__(self):
        return f"{self.get_what_display()} · {self.model} {self.row_id}"


def _fields(row):
    values = model_to_dict(row, exclude=["id", "professional"])
    return {
        name: value.isoformat() if isinstance(value, datetime | date | time) else value
        for name, value in values.items()
    }


def save_schedule(row, *, by):
    """Save a range of working hours or a time off (new or changed) as an action of `by` (an
    Actor), recording what it was and what it became. Returns the row."""
    with recording(ActionKind.SCHEDULE, by=by, at=timezone.now()) as action:
        before = type(row).objects.filter(pk=row.pk).first() if row.pk else None
        row.save()
        old, new = (_fields(before) if before else {}), _fields(row)
        changes = {
            name: [old.get(name), value] for name, value in new.items() if old.get(name) != value
        }
        if before is None or changes:
            action.log(
                ScheduleChange(
                    professional_id=row.professional_id,
                    model=row._meta.model_name,
                    row_id=row.pk,
                    what=ScheduleChange.What.CHANGED if before else ScheduleChange.What.ADDED,
                    changes=changes,
                )
            )
    return row


def delete_schedule(row, *, by):
    """Remove a range of working hours or a time off as an action of `by`, recording what it
    was."""
    with recording(ActionKind.SCHEDULE, by=by, at=timezone.now()) as action:
        action.log(
            ScheduleChange(
                professional_id=row.professional_id,
                model=row._meta.model_name,
                row_id=row.pk,
                what=ScheduleChange.What.REMOVED,
                changes={name: [value, None] for name, value in _fields(row).items()},
            )
        )
        row.delete()
