"""When a professional sees patients: weekly working hours, and time off that punches holes in them.

Times are wall-clock times in the professional's own zone (User.time_zone): "Mondays 9 to 13" stays
9 to 13 on both sides of a daylight-saving change. scheduling/slots.py turns them into instants.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


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
    session_minutes = models.PositiveSmallIntegerField(_("session length (minutes)"), default=50)
    buffer_minutes = models.PositiveSmallIntegerField(
        _("break after each session (minutes)"), default=10
    )
    horizon_weeks = models.PositiveSmallIntegerField(_("bookable up to (weeks ahead)"), default=8)
    min_lead_hours = models.PositiveSmallIntegerField(_("bookable from (hours ahead)"), default=24)

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
                condition=Q(session_minutes__gt=0), name="working_hours_session_positive"
            ),
        ]

    def __str__(self):
        hours = f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        return f"{self.professional} · {self.get_weekday_display()} {hours}"


class TimeOff(models.Model):
    """An absence (holidays, a congress): no slots are offered inside it."""

    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="time_off",
        verbose_name=_("professional"),
    )
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
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
