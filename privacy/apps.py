"""Each patient's data is theirs (Ley 25.326 arts. 14 and 16; Ley 26.529): a copy of it (export.py),
a request to delete it with its legal deadline (models.DeletionRequest), and the deletion itself
(erase.py). A capability over the others: the doors (portal, agenda, admin) call it."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Personal data")
    default_auto_field = "django.db.models.BigAutoField"
