from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SiteConfig(AppConfig):
    """The site that puts the apps together: settings, URLs, error pages, the template tags
    every door's pages load ({% load turnos %}, templatetags/turnos.py), and the practice's roles
    (roles.py), written to the database after every migrate."""

    name = "reservations_site"
    verbose_name = "Turnos"

    def ready(self):
        from .roles import sync_after_migrate

        post_migrate.connect(sync_after_migrate, dispatch_uid="reservations_site.roles")
