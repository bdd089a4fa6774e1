import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class Status(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    CANCELLED = "CANCELLED", _("Cancelled")


class Modality(models.TextChoices):
    VIRTUAL = "Virtual", _("Virtual")
    IN_PERSON = "Presencial", _("In person")


class Channel(models.TextChoices):
    PAGE = "page", _("Patient dashboard")
    ADMIN = "admin", _("Admin")
    API = "api", _("API")
    SYSTEM = "system", _("System")


ACTIVE_STATUSES = (Status.PENDING, Status.CONFIRMED)


@dataclass(frozen=True)
class Refusal:
    """Why a cancel was not done. `code` is for machines, `message` for the patient."""

    code: str  # "already_cancelled", "past", "in_progress" or "notice"
    message: str

    def __str__(self):
        return str(self.message)


class ReservationQuerySet(models.QuerySet):
    def with_people(self):
        return self.select_related("professional__professional_profile")

    def active(self):
        return self.filter(status__in=ACTIVE_STATUSES)

    def current_for(self, client, now):
        """The session in progress, or else the nearest upcoming one that is not cancelled."""
        return (
            self.filter(client=client, end_time__gt=now)
            .active()
            .with_people()
            .order_by("start_time", "id")
            .first()
        )

    def history_for(self, client):
        return self.filter(client=client).with_people().order_by("-start_time", "-id")


class Reservation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reservations",
        verbose_name=_("patient"),
    )
    professional = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="agenda",
        verbose_name=_("professional"),
    )
    start_time = models.DateTimeField(_("start"))
    end_time = models.DateTimeField(_("end"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    session_modality = models.CharField(
        _("modality"), max_length=16, choices=Modality.choices, default=Modality.VIRTUAL
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancellation_reason = models.TextField(_("cancellation reason"), blank=True, max_length=2000)

    objects = ReservationQuerySet.as_manager()

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        ordering = ["-start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="reservation_end_after_start"
            ),
        ]
        indexes = [
            # The patient's dashboard: history by start time, current turn by end time.
            models.Index(fields=["client", "-start_time"], name="reservation_client_start"),
            models.Index(fields=["client", "end_time"], name="reservation_client_end"),
            # The professional's agenda.
            models.Index(fields=["professional", "start_time"], name="reservation_prof_start"),
        ]

    def __str__(self):
        return f"{self.start_time:%Y-%m-%d %H:%M} · {self.client} · {self.get_status_display()}"

    @property
    def duration(self):
        return self.end_time - self.start_time

    @property
    def duration_minutes(self):
        return int(self.duration.total_seconds() // 60)

    @property
    def notice_period(self):
        try:
            hours = self.professional.professional_profile.cancellation_notice_hours
        except models.ObjectDoesNotExist:
            hours = settings.DEFAULT_CANCELLATION_NOTICE_HOURS
        return timedelta(hours=hours)

    def cancel_refusal(self, now=None, *, by_staff=False):
        """Why this reservation may not be cancelled now, or None if it may.

        The patient may cancel a PENDING or CONFIRMED reservation whose start is at least the
        notice period away: exactly 48 h before the start is still allowed, a second later is not.
        Staff may cancel any PENDING or CONFIRMED reservation at any time.
        """
        now = now or timezone.now()
        if self.status == Status.CANCELLED:
            return Refusal("already_cancelled", _("Already cancelled"))
        if by_staff:
            return None
        if self.end_time <= now:
            return Refusal("past", _("This session has already taken place"))
        if self.start_time <= now:
            return Refusal("in_progress", _("This session is in progress"))
        if self.start_time - now < self.notice_period:
            hours = int(self.notice_period.total_seconds() // 3600)
            return Refusal(
                "notice",
                ngettext(
                    "You can only cancel %(hours)d hour in advance — contact your professional",
                    "You can only cancel %(hours)d h in advance — contact your professional",
                    hours,
                )
                % {"hours": hours},
            )
        return None

    def is_cancellable(self, now=None):
        return self.cancel_refusal(now) is None

    def cancel(self, *, by, channel, reason="", now=None, by_staff=False):
        """Cancel, or say why not. Returns None on success, else a Refusal.

        The check is repeated inside one conditional UPDATE, so two racing cancels (or a cancel
        racing the clock) leave exactly one cancellation: the loser sees "already cancelled".
        """
        now = now or timezone.now()
        refusal = self.cancel_refusal(now, by_staff=by_staff)
        if refusal:
            return refusal
        with transaction.atomic():
            rows = Reservation.objects.filter(pk=self.pk, status__in=ACTIVE_STATUSES)
            if not by_staff:
                rows = rows.filter(start_time__gte=now + self.notice_period)
            old_status = self.status
            updated = rows.update(
                status=Status.CANCELLED,
                cancelled_at=now,
                cancelled_by=by,
                cancellation_reason=reason,
            )
            if updated:
                ReservationEvent.objects.create(
                    reservation=self,
                    action=ReservationEvent.Action.CANCELLED,
                    from_status=old_status,
                    to_status=Status.CANCELLED,
                    actor=by,
                    channel=channel,
                    reason=reason,
                    at=now,
                )
        self.refresh_from_db(
            fields=["status", "cancelled_at", "cancelled_by", "cancellation_reason"]
        )
        if updated:
            return None
        return self.cancel_refusal(now, by_staff=by_staff) or Refusal(
            "already_cancelled", _("Already cancelled")
        )

    def confirm(self, *, by, channel, now=None):
        """PENDING becomes CONFIRMED. Returns True when this call confirmed it."""
        now = now or timezone.now()
        with transaction.atomic():
            updated = Reservation.objects.filter(pk=self.pk, status=Status.PENDING).update(
                status=Status.CONFIRMED
            )
            if updated:
                ReservationEvent.objects.create(
                    reservation=self,
                    action=ReservationEvent.Action.CONFIRMED,
                    from_status=Status.PENDING,
                    to_status=Status.CONFIRMED,
                    actor=by,
                    channel=channel,
                    at=now,
                )
        self.refresh_from_db(fields=["status"])
        return bool(updated)


class ReservationEvent(models.Model):
    """Append-only record of what happened to a reservation: who, when, through which door."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    reservation = models.ForeignKey(
        Reservation,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("reservation"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_status = models.CharField(_("from"), max_length=16, choices=Status.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("reservation event")
        verbose_name_plural = _("reservation events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["reservation", "at"], name="event_reservation_at")]

    def __str__(self):
        return f"{self.get_action_display()} · {self.at:%Y-%m-%d %H:%M}"
