from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The patient's door: everything a patient sees (dashboard, a session's page, cancel, book,
    reschedule, preferences, calendar links). Views that find what is the user's own and call the
    rules of the core and the capabilities; no rule lives here."""

    name = "portal"
    verbose_name = _("Patient portal")
