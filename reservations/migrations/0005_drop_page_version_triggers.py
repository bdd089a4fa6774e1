"""The page cache is gone (pages are rendered from the database), and with it the triggers that
kept `page_version` current. Reversing puts them back (from migration 0004)."""

from importlib import import_module

from django.db import migrations

triggers = import_module("reservations.migrations.0004_page_version_triggers")


class Migration(migrations.Migration):
    dependencies = [("reservations", "0004_page_version_triggers")]

    operations = [
        migrations.RunPython(
            triggers._run({"postgresql": triggers.PG_BACKWARD, "sqlite": triggers.SQLITE_BACKWARD}),
            triggers._run({"postgresql": triggers.PG_FORWARD, "sqlite": triggers.SQLITE_FORWARD}),
        )
    ]
