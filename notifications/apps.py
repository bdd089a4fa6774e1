"""Messages to patients and professionals (an outbox sent by the worker), reminders, and the
calendar entries that travel with them.

How an action reaches its messages: every change to sessions is an action recorded in one place,
reservations.actions.recording(), which sends `action_recorded` once the action has committed.
This app connects one receiver to that signal (below) and decides there, per action, who is told
what (notifications/rules.py). The dependency points toward the core: reservations and accounts
know nothing of notifications.
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from reservations.actions import Action, action_recorded

        action_recorded.connect(_action_recorded, sender=Action, dispatch_uid="notifications")


def _action_recorded(sender, action, **kwargs):
    from django.utils import timezone

    from .rules import record

    record(action, timezone.now())
