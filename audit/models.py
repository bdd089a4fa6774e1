"""The access log: who opened whose data, when, from where. Append-only.

Nothing on the site changes or deletes an entry: the model refuses save() of an existing row and
delete(), its queryset refuses update() and delete(), and the admin grants no change or delete
permission, superusers included. People are referenced by id without a database constraint, so
an entry outlives whatever happens to the account it names.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnly(Exception):
    """An access log entry was about to be changed or deleted."""


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("Access log entries are never changed.")

    def delete(self):
        raise AppendOnly("Access log entries are never deleted.")

    # bulk_update goes through update(); _raw_delete is private and never called by the site.


class AccessLog(models.Model):
    class Kind(models.TextChoices):
        VIEW = "view", _("Viewed")
        EXPORT = "export", _("Exported")
        REFUSED = "refused", _("Refused")
        LOGIN_FAILED = "login_failed", _("Failed login")
        FACTOR_RESET = "factor_reset", _("Factor reset")
        SESSIONS_ENDED = "sessions_ended", _("Sessions ended")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    kind = models.CharField(_("what"), max_length=20, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("whose data"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # "app_label.model" and its primary key, of the object opened (a reservation, a user...).
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # Where: a short name of the door and page ("agenda: session", "admin: user"), and the path.
    where = models.CharField(_("where"), max_length=100, blank=True)
    path = models.CharField(_("path"), max_length=500, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # For a failed login, the address typed (never the password); otherwise empty.
    detail = models.CharField(_("detail"), max_length=254, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["subject", "-at"], name="audit_subject_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} {self.actor_id} → {self.subject_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Access log entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Access log entries are never deleted.")
