from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo's users and sessions (`seed_demo`, `seed_demo_series`). It sits on top of every
    other app and may use any of them; none of them imports it, and the site runs without it."""

    name = "demo"
    verbose_name = "Demo"
