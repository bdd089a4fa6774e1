"""Messages to patients and professionals (an outbox sent by the worker), reminders, and the
calendar entries that travel with them.

How a change reaches its messages: every change to a reservation writes a
reservations.models.ReservationEvent in the same transaction (created, confirmed, cancelled,
declined, rescheduled, expired…). This app listens for those rows (post_save, created) and writes
its Outbox rows right there, inside that transaction, then enqueues their sending once it
commits. So the dependency points toward the core: reservations and accounts know nothing of
notifications, and a change committed without its messages cannot happen (nor messages for a
change rolled back).
"""

from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from reservations.models import ReservationEvent

        post_save.connect(
            _event_written, sender=ReservationEvent, dispatch_uid="notifications-outbox"
        )


def _event_written(sender, instance, created, raw=False, **kwargs):
    if not created or raw:  # raw: loading fixtures, not a change
        return
    from .rules import record

    record(instance, instance.at)
