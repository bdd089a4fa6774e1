"""A session's own video link and its attendance.

Adding a NOT NULL column makes Django rebuild the table on SQLite, which drops its triggers: the
no-overlap guard of migration 0002 is created again afterwards (tests/test_double_booking.py
fails if a migration loses it)."""

from importlib import import_module

from django.db import migrations, models

no_overlap = import_module("reservations.migrations.0002_no_overlap")


def restore_sqlite_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in no_overlap.SQLITE_FORWARD:
            schema_editor.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))


class Migration(migrations.Migration):
    dependencies = [("reservations", "0005_drop_page_version_triggers")]

    operations = [
        migrations.AddField(
            model_name="reservation",
            name="attended",
            field=models.BooleanField(blank=True, null=True, verbose_name="attended"),
        ),
        migrations.AddField(
            model_name="reservation",
            name="video_url",
            field=models.URLField(
                blank=True,
                db_default="",
                help_text="For this session only; blank uses the professional's link.",
                verbose_name="video call link",
            ),
        ),
        migrations.RunPython(restore_sqlite_guard, migrations.RunPython.noop),
    ]
