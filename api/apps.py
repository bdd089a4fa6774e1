from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("JSON API")

    def ready(self):
        # allauth imports cryptography lazily; with RS256 the first token of a fresh process
        # can then fail with "module 'cryptography.hazmat.primitives' has no attribute
        # 'serialization'". Importing the submodule once at start-up avoids that.
        import cryptography.hazmat.primitives.serialization  # noqa: F401

        from . import checks  # noqa: F401  (registers the deploy check)
