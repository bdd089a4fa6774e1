"""A patient's request to have their data deleted (Ley 25.326, art. 16): the practice decides
within 5 business days of it, skipping weekends and Argentina's national holidays."""

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scheduling.closures import national_holidays

# Ley 25.326, art. 16: the practice acts on a request within this many business days.
BUSINESS_DAYS_TO_ACT = 5


def business_days_after(day, count=BUSINESS_DAYS_TO_ACT):
    """The `count`-th business day after `day` (a date): weekends and Argentina's national
    holidays (the movable and bridge ones included, from the `holidays` package) do not count."""
    # The law's calendar, Argentina's, whatever days the practice itself closes on.
    national = national_holidays(day, date(day.year + 1, 12, 31), "AR")
    current = day
    while count:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in national:
            count -= 1
    return current


class DeletionRequestQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=DeletionRequest.Status.REQUESTED)


class DeletionRequest(models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        DONE = "done", _("Carried out")
        REFUSED = "refused", _("Refused")

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="deletion_requests",
        verbose_name=_("patient"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    # The last day (in the site's zone) the practice has to decide.
    due_by = models.DateField(_("decide by"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # Why it was refused (the patient reads it), e.g. a law that makes the practice keep it.
    reason = models.TextField(_("reason"), blank=True)

    objects = DeletionRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("deletion request")
        verbose_name_plural = _("deletion requests")
        ordering = ["due_by", "requested_at"]
        constraints = [
            # One open request per patient: a second click finds the first.
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(status="requested"),
                name="one_open_deletion_request",
            ),
        ]

    def __str__(self):
        return f"{self.patient} · {self.get_status_display()}"

    @classmethod
    def due_for(cls, requested_at):
        """The deadline of a request made at `requested_at`: 5 business days after its day in
        the site's zone (Argentina's holidays are the practice's)."""
        return business_days_after(timezone.localtime(requested_at).date())

    @property
    def is_open(self):
        return self.status == self.Status.REQUESTED

    def is_overdue(self, today=None):
        today = today or timezone.localdate()
        return self.is_open and isinstance(self.due_by, date) and today > self.due_by

    @classmethod
    def ask(cls, patient, now=None):
        """The patient's request: a new one, or the one already open. Returns (request, made)."""
        from django.db import IntegrityError, transaction

        now = now or timezone.now()
        found = cls.objects.open().filter(patient=patient).first()
        if found:
            return found, False
        try:
            with transaction.atomic():
                return (
                    cls.objects.create(patient=patient, requested_at=now, due_by=cls.due_for(now)),
                    True,
                )
        except IntegrityError:  # a second click won the race: that one is the request
            return cls.objects.open().get(patient=patient), False

    def refuse(self, *, by, reason, now=None):
        """Refuse it, saying why (the patient reads it). False if it was no longer open."""
        now = now or timezone.now()
        done = (
            DeletionRequest.objects.open()
            .filter(pk=self.pk)
            .update(
                status=self.Status.REFUSED, decided_by=by, decided_at=now, reason=reason.strip()
            )
        )
        if done:
            self.status, self.decided_by, self.decided_at = self.Status.REFUSED, by, now
            self.reason = reason.strip()
        return bool(done)
