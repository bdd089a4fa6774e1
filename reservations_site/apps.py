from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The site that puts the apps together: settings, URLs, error pages, and the template tags
    every door's pages load ({% load turnos %}, templatetags/turnos.py)."""

    name = "reservations_site"
    verbose_name = "Turnos"
