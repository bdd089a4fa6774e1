from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Access log")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.contrib.auth.signals import user_login_failed  # noqa: PLC0415

        user_login_failed.connect(on_login_failed, dispatch_uid="audit.login_failed")


def on_login_failed(sender, credentials, request=None, **kwargs):
    """Django's signal for every failed authenticate(): allauth's login form, the headless
    login, the admin's login (which is allauth's form) and re-authentication all call it.
    Django has already masked the password in `credentials`; audit.log.login_failed reads only
    the address."""
    from .log import login_failed  # noqa: PLC0415

    login_failed(request, credentials)
