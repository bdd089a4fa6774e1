from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgendaConfig(AppConfig):
    """The professional's side: their own sessions and the doors onto the reservation rules.
    It depends on `reservations` and `accounts`; neither imports it."""

    name = "agenda"
    verbose_name = _("Agenda")
